"""Value and activity tiers and the lost lifecycle, recomputed nightly (SPEC §1).

The figures behind the tiers belong to later apps (DESIGN.md): won-order amounts to
``opportunities``, interactions to ``followups``. ``customers`` imports neither, so those apps hand
their figures over through this registry, from their ``AppConfig.ready()``::

    from customers import tiers

    def won_order_amounts(since: datetime) -> dict[int, Decimal]:
        rows = Order.objects.filter(signed_at__gte=since).values("customer_id")
        return dict(rows.annotate(total=Sum("amount")).values_list("customer_id", "total"))

    tiers.register_value_source(won_order_amounts)

- a value source is ``fn(since) -> {customer_id: Decimal}``: amounts since ``since``;
- an activity source is ``fn(since) -> {customer_id: int}``: interactions since ``since``;
- a cooperation source is ``fn(customer_ids) -> {customer_id: datetime}``: the newest won-order
  date of won customers whose ``last_cooperation_at`` is empty.

Sources run one grouped query for all customers (customers without figures are simply absent),
never a Python loop over rows; the figures of all sources are summed. Until those apps exist,
customers registers its own: value = the ``annual_amount`` reps and imports enter, activity =
captured lead inquiries. An app whose figures supersede one of these (orders make the entered
annual amount redundant) unregisters it in its ``ready()``.

The job writes only rows whose values change, grouped into one UPDATE per tier combination, so a
night where nothing changed writes nothing and running it twice changes nothing the second time.
Tier changes are derived figures: they bypass simple-history and emit no event. A won customer
without cooperation for ``lost_after_months`` turns lost (流失) once: that is a business change,
so it is saved with history and emits ``customer.changed`` for the automation rules. A won
customer with no known cooperation date at all (neither ``last_cooperation_at`` nor a won order)
stays won: nothing says when it lapsed.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext

from crm.core import events
from customers.events import CUSTOMER_CHANGED
from customers.models import Customer, LeadInquiry, Tier, TierSettings, months_ago

logger = logging.getLogger(__name__)

ValueSource = Callable[[datetime.datetime], Mapping[int, Decimal]]
ActivitySource = Callable[[datetime.datetime], Mapping[int, int]]
CooperationSource = Callable[[list[int]], Mapping[int, datetime.datetime]]
Figure = TypeVar("Figure", Decimal, int)

VALUE_MONTHS = 12
ACTIVITY_MONTHS = 6
CHUNK_SIZE = 2000

_value_sources: list[ValueSource] = []
_activity_sources: list[ActivitySource] = []
_cooperation_sources: list[CooperationSource] = []


# --- the registry --------------------------------------------------------------------------------


def register_value_source(source: ValueSource) -> ValueSource:
    if source not in _value_sources:
        _value_sources.append(source)
    return source


def unregister_value_source(source: ValueSource) -> None:
    if source in _value_sources:
        _value_sources.remove(source)


def register_activity_source(source: ActivitySource) -> ActivitySource:
    if source not in _activity_sources:
        _activity_sources.append(source)
    return source


def unregister_activity_source(source: ActivitySource) -> None:
    if source in _activity_sources:
        _activity_sources.remove(source)


def register_cooperation_source(source: CooperationSource) -> CooperationSource:
    if source not in _cooperation_sources:
        _cooperation_sources.append(source)
    return source


def unregister_cooperation_source(source: CooperationSource) -> None:
    if source in _cooperation_sources:
        _cooperation_sources.remove(source)


# --- the archive's own sources -------------------------------------------------------------------


@register_value_source
def entered_annual_amounts(since: datetime.datetime) -> dict[int, Decimal]:
    """The annual amount entered on the record: a yearly figure, so ``since`` does not apply."""
    rows = (
        Customer.objects.filter(annual_amount__gt=0).order_by().values_list("pk", "annual_amount")
    )
    return dict(rows)


@register_activity_source
def lead_inquiries(since: datetime.datetime) -> dict[int, int]:
    rows = (
        LeadInquiry.objects.filter(captured_at__gte=since)
        .order_by()
        .values("customer_id")
        .annotate(count=Count("id"))
        .values_list("customer_id", "count")
    )
    return dict(rows)


# --- the job -------------------------------------------------------------------------------------


def _summed(figures: Iterable[Mapping[int, Figure]]) -> dict[int, Figure]:
    total: dict[int, Figure] = {}
    for mapping in figures:
        for customer_id, figure in mapping.items():
            if figure is None:
                continue
            total[customer_id] = total[customer_id] + figure if customer_id in total else figure
    return total


def value_tier(amount: Decimal, settings: TierSettings) -> str:
    if amount >= settings.high_value_from:
        return Tier.HIGH
    if amount >= settings.medium_value_from:
        return Tier.MEDIUM
    return Tier.LOW


def activity_tier(interactions: int, settings: TierSettings) -> str:
    # Compared as counts over the whole window, not as a float average a month.
    if interactions >= settings.high_activity_per_month * ACTIVITY_MONTHS:
        return Tier.HIGH
    if interactions >= settings.medium_activity_per_month * ACTIVITY_MONTHS:
        return Tier.MEDIUM
    return Tier.LOW


def tiers_recompute(*, now: datetime.datetime) -> int:
    """Recomputes every customer's value and activity tier, and turns won customers without
    cooperation for ``lost_after_months`` into lost ones. Returns how many customers changed.

    Walks the customers by primary key in chunks (keyset pagination, so each chunk is a short
    indexed read and a short transaction, whatever the table size); the sources run once.
    """
    settings = TierSettings.load()
    values = _summed(source(months_ago(now, VALUE_MONTHS)) for source in _value_sources)
    interactions = _summed(source(months_ago(now, ACTIVITY_MONTHS)) for source in _activity_sources)
    lost_before = months_ago(now, settings.lost_after_months)
    rows = Customer.objects.order_by("pk").values_list(
        "pk", "type", "value_tier", "activity_tier", "last_cooperation_at", "tiers_computed_at"
    )
    changed = 0
    last_pk = 0
    while True:
        chunk = list(rows.filter(pk__gt=last_pk)[:CHUNK_SIZE])
        if not chunk:
            break
        changed += _recompute_chunk(
            chunk,
            values=values,
            interactions=interactions,
            settings=settings,
            lost_before=lost_before,
            now=now,
        )
        if len(chunk) < CHUNK_SIZE:
            break
        last_pk = chunk[-1][0]
    logger.info("Tiers recomputed: %d customers changed", changed)
    return changed


def _recompute_chunk(
    chunk: list[tuple[int, str, str, str, datetime.datetime | None, datetime.datetime | None]],
    *,
    values: Mapping[int, Decimal],
    interactions: Mapping[int, int],
    settings: TierSettings,
    lost_before: datetime.datetime,
    now: datetime.datetime,
) -> int:
    won_without_date = [row[0] for row in chunk if row[1] == Customer.Type.WON and row[4] is None]
    newest_orders: dict[int, datetime.datetime] = {}
    if won_without_date:
        for source in _cooperation_sources:
            for customer_id, when in source(won_without_date).items():
                if customer_id not in newest_orders or when > newest_orders[customer_id]:
                    newest_orders[customer_id] = when

    writes: dict[tuple[str, str], list[int]] = defaultdict(list)
    losing: dict[int, tuple[str, str]] = {}
    for pk, type_, old_value, old_activity, cooperated, computed_at in chunk:
        tiers = (
            value_tier(Decimal(values.get(pk, 0)), settings),
            activity_tier(interactions.get(pk, 0), settings),
        )
        last_cooperation = cooperated or newest_orders.get(pk)
        if (
            type_ == Customer.Type.WON
            and last_cooperation is not None
            and last_cooperation < lost_before
        ):
            losing[pk] = tiers
        elif computed_at is None or (old_value, old_activity) != tiers:
            writes[tiers].append(pk)

    changed = 0
    with transaction.atomic():
        # Sorted, so that two workers running at once lock rows in the same order.
        for (value, activity), ids in sorted(writes.items()):
            # The exclude makes the count exact when another run got there first: its rows no
            # longer match, so they are neither written again nor counted twice.
            changed += (
                Customer.objects.filter(pk__in=ids)
                .exclude(value_tier=value, activity_tier=activity, tiers_computed_at__isnull=False)
                .update(value_tier=value, activity_tier=activity, tiers_computed_at=now)
            )
        if losing:
            changed += _mark_lost(losing, lost_before=lost_before, now=now)
    return changed


def _mark_lost(
    losing: Mapping[int, tuple[str, str]],
    *,
    lost_before: datetime.datetime,
    now: datetime.datetime,
) -> int:
    """Turns won customers lost, once each: the row lock and the re-checked condition make a
    second run (or a concurrent one, which skips locked rows) find nothing left to mark."""
    customers = (
        Customer.objects.select_for_update(skip_locked=True)
        .filter(pk__in=list(losing), type=Customer.Type.WON)
        .filter(Q(last_cooperation_at__lt=lost_before) | Q(last_cooperation_at__isnull=True))
        .order_by("pk")
    )
    marked = list(customers)
    if not marked:
        return 0
    by_tiers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for customer in marked:
        customer.value_tier, customer.activity_tier = losing[customer.pk]
        customer.type = Customer.Type.LOST
        customer.lifecycle = Customer.Lifecycle.LOST
        customer.tiers_computed_at = customer.updated_at = now
        by_tiers[losing[customer.pk]].append(customer.pk)
    # Grouped UPDATEs and one history INSERT (bulk_update's CASE per row is slow): the first run
    # on an old archive may find thousands of lapsed customers.
    for (value, activity), ids in sorted(by_tiers.items()):
        Customer.objects.filter(pk__in=ids).update(
            type=Customer.Type.LOST,
            lifecycle=Customer.Lifecycle.LOST,
            value_tier=value,
            activity_tier=activity,
            tiers_computed_at=now,
            updated_at=now,
        )
    Customer.history.bulk_history_create(  # type: ignore[attr-defined]
        marked,
        update=True,
        default_change_reason=gettext("No cooperation for months: lost"),
        default_date=now,
    )
    for customer in marked:
        events.emit(CUSTOMER_CHANGED, customer, data={"changed": ["type", "lifecycle"]})
    return len(marked)
