"""The pipeline's beat sweeps and the figures it hands to other apps.

- Stale in stage: an open opportunity untouched for its stage's ``stale_after_days`` (proposal: 7)
  reminds its owner once per stay in the stage (``StageVisit.stale_reminded_at`` is the claim).
- Overdue instalments: an unpaid instalment past its due date reminds the order's owner once
  (``Instalment.overdue_notified_at`` is the claim).
- Contract expiry: orders' contract end dates feed followups' contract-expiry reminder.
- Tiers: won-order amounts are the customers' value figures, signing dates their cooperation.

Each claim is a conditional UPDATE in the target's own transaction with its notification, so a
second run, or a second worker, sends nothing twice, and a failure leaves it for the next run.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.notifications.services import notify
from customers import tiers
from followups.reminders import register_contract_source
from opportunities.models import Instalment, Order, Stage, StageVisit

BATCH = 500


def remind_stale_opportunities(*, now: datetime.datetime) -> int:
    """Owners of open opportunities untouched for their stage's threshold; once per stay."""
    candidates = (
        StageVisit.objects.filter(
            left_at__isnull=True,
            stale_reminded_at__isnull=True,
            stage__kind=Stage.Kind.OPEN,
            stage__stale_after_days__isnull=False,
        )
        .annotate(last_touch=Greatest(F("entered_at"), F("opportunity__touched_at")))
        .select_related("stage", "opportunity__owner", "opportunity__customer")
        .order_by("pk")
    )
    sent = 0
    for visit in candidates.iterator(chunk_size=BATCH):
        threshold = datetime.timedelta(days=visit.stage.stale_after_days)
        if visit.last_touch > now - threshold:
            continue
        with transaction.atomic():
            claimed = StageVisit.objects.filter(
                pk=visit.pk, left_at__isnull=True, stale_reminded_at__isnull=True
            ).update(stale_reminded_at=now)
            if not claimed:
                continue
            opportunity = visit.opportunity
            notify(
                [opportunity.owner],
                "opportunity_stale",
                opportunity,
                url=opportunity.get_absolute_url(),
                context={"visit": visit, "days": (now - visit.last_touch).days},
            )
            sent += 1
    return sent


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
    sent = 0
    for instalment in due.iterator(chunk_size=BATCH):
        with transaction.atomic():
            claimed = Instalment.objects.filter(
                pk=instalment.pk, paid_at__isnull=True, overdue_notified_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            order = instalment.order
            notify(
                [order.owner],
                "order_overdue",
                order,
                url=order.get_absolute_url(),
                context={
                    "instalment": instalment,
                    "owed": f"{instalment.amount - instalment.collected:,.2f}",
                },
            )
            sent += 1
    return sent


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
