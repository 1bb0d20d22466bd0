"""The pipeline's beat sweeps and the figures it hands to other apps.

- Stale in stage: an open opportunity untouched for its stage's ``stale_after_days`` (proposal: 7)
  reminds its owner once per stay in the stage (``StageVisit.stale_reminded_at`` is the claim).
- Overdue instalments: an unpaid instalment past its due date reminds the order's owner once
  (``Instalment.overdue_notified_at`` is the claim).
- Contract expiry: orders' contract end dates feed followups' contract-expiry reminder.
- Tiers: won-order amounts are the customers' value figures, signing dates their cooperation.

Each sweep claims its due items in chunks (``crm.core.sweeps``): the chunk's rows locked and
stamped in one update, in the transaction of its notifications, so a second run, or a second
worker, sends nothing twice, and a failure leaves the items for the next run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from functools import partial

from django.db.models import F, Max, Q, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.core import sweeps
from crm.notifications.services import Message, notify_many
from customers import tiers
from followups.reminders import register_contract_source
from opportunities.models import Instalment, Order, Stage, StageVisit


def remind_stale_opportunities(*, now: datetime.datetime) -> int:
    """Owners of open opportunities untouched for their stage's threshold; once per stay. Each
    stage's threshold is a condition of the query, so only the stays due are read (the partial
    index of current, unreminded stays)."""
    due = Q()
    for stage in Stage.objects.filter(kind=Stage.Kind.OPEN, stale_after_days__isnull=False):
        since = now - datetime.timedelta(days=stage.stale_after_days)
        due |= Q(stage=stage, last_touch__lte=since)
    if not due:
        return 0
    visits = (
        StageVisit.objects.filter(left_at__isnull=True, stale_reminded_at__isnull=True)
        .annotate(last_touch=Greatest(F("entered_at"), F("opportunity__touched_at")))
        .filter(due)
        .select_related("stage", "opportunity__owner", "opportunity__customer")
        .order_by("pk")
    )
    return sweeps.in_chunks(list(visits), partial(_remind_stale, now=now))


def _remind_stale(visits: list[StageVisit], *, now: datetime.datetime) -> int:
    current = StageVisit.objects.filter(left_at__isnull=True)
    claimed = sweeps.claim(current, [visit.pk for visit in visits], "stale_reminded_at", now)
    notify_many(
        Message(
            recipients=[visit.opportunity.owner],
            verb="opportunity_stale",
            target=visit.opportunity,
            url=visit.opportunity.get_absolute_url(),
            context={"visit": visit, "days": (now - visit.last_touch).days},
        )
        for visit in visits
        if visit.pk in claimed
    )
    return len(claimed)


def remind_overdue_instalments(*, now: datetime.datetime) -> int:
    """The order's owner, once per unpaid instalment past its due date."""
    today = timezone.localdate(now)
    due = (
        Instalment.objects.filter(
            paid_at__isnull=True, overdue_notified_at__isnull=True, due_date__lt=today
        )
        .with_collected()
        .select_related("order__owner", "order__customer")
        .order_by("pk")
    )
    return sweeps.in_chunks(list(due), partial(_remind_overdue, now=now))


def _remind_overdue(instalments: list[Instalment], *, now: datetime.datetime) -> int:
    unpaid = Instalment.objects.filter(paid_at__isnull=True)
    claimed = sweeps.claim(unpaid, [item.pk for item in instalments], "overdue_notified_at", now)
    notify_many(
        Message(
            recipients=[instalment.order.owner],
            verb="order_overdue",
            target=instalment.order,
            url=instalment.order.get_absolute_url(),
            context={
                "instalment": instalment,
                "owed": f"{instalment.amount - instalment.collected:,.2f}",
            },
        )
        for instalment in instalments
        if instalment.pk in claimed
    )
    return len(claimed)


@register_contract_source
def expiring_contracts(
    start: datetime.date, end: datetime.date
) -> Iterator[tuple[int, int, datetime.date, str]]:
    """Orders whose contract ends in [start, end], for followups' contract-expiry reminder."""
    rows = Order.objects.filter(contract_ends_on__range=(start, end)).values_list(
        "customer_id", "pk", "contract_ends_on", "number"
    )
    yield from rows.iterator()


@tiers.register_value_source
def won_order_amounts(since: datetime.datetime) -> dict[int, Decimal]:
    rows = (
        Order.objects.filter(signed_on__gte=timezone.localdate(since))
        .order_by()
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values_list("customer_id", "total")
    )
    return dict(rows)


@tiers.register_cooperation_source
def last_orders(customer_ids: list[int]) -> dict[int, datetime.datetime]:
    rows = (
        Order.objects.filter(customer_id__in=customer_ids)
        .order_by()
        .values("customer_id")
        .annotate(last=Max("signed_on"))
        .values_list("customer_id", "last")
    )
    return {
        customer_id: timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        for customer_id, day in rows
    }
