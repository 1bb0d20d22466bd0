"""客户分析: value and activity tiers, lifecycle movement per month, follow-up records and how
timely each rep's follow-up tasks were done."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import datasets, rollups
from analytics.charts import Board, Cell, Chart, Kpi, Point, Series, Table
from analytics.dashboards import SALES_ROLES, Dashboard, label, names, register
from analytics.dashboards.sales import customers, is_whole_company
from analytics.datasets import Column, Dataset, by_id, choice, within
from analytics.scope import Scope, month_key
from analytics.stats import month_buckets, rate
from crm.accounts.models import User
from crm.core.aggregates import count_where
from customers.models import Customer, Tier
from followups.models import FollowUpMethod, FollowUpRecord, FollowUpTask

Lifecycle = Customer.Lifecycle
TIERS = [*Tier.values, ""]
TIMELINESS = {
    "on_time": gettext_lazy("On time"),
    "late": gettext_lazy("Late"),
    "missed": gettext_lazy("Not done"),
}
NONE = gettext_lazy("Not computed")


# --- the records ------------------------------------------------------------------------------


def tiered(scope: Scope, params: Mapping[str, str]) -> QuerySet[Customer]:
    records = customers(scope)
    for name in ("value_tier", "activity_tier"):
        value = params.get(name, "")
        if value:
            records = records.filter(
                **{name: "" if value == "none" else choice(params, name, Tier.values)}
            )
    return records


def _history() -> Any:
    return Customer.history.model  # type: ignore[attr-defined]


def moves(scope: Scope, params: Mapping[str, str]) -> QuerySet[Any]:
    """History rows where a customer entered a lifecycle stage in the period (its creation
    counts as entering its first stage)."""
    history = _history()
    before = (
        history.objects.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
        .order_by("-history_date", "-history_id")
        .values("lifecycle")[:1]
    )
    # One look-up of the row before (an index-only probe of customer_history_lifecycle), not
    # one for "IS NULL" and another for "<>": no stored stage is empty.
    rows = (
        history.objects.filter(within(scope, params, "history_date"))
        .alias(before=Coalesce(Subquery(before), Value("")))
        .exclude(before=F("lifecycle"))
    )
    if stage := choice(params, "stage", Lifecycle.values):
        rows = rows.filter(lifecycle=stage)
    if not is_whole_company(scope):
        rows = rows.filter(id__in=customers(scope).values("pk"))
    return rows


def moved(scope: Scope, params: Mapping[str, str]) -> QuerySet[Customer]:
    return customers(scope).filter(pk__in=moves(scope, params).values("id"))


def records(scope: Scope, params: Mapping[str, str]) -> QuerySet[FollowUpRecord]:
    rows = scope.narrow(FollowUpRecord.objects.visible_to(scope.user)).filter(
        within(scope, params, "occurred_at")
    )
    return by_id(rows, params, "method", "method_id")


def tasks(scope: Scope, params: Mapping[str, str]) -> QuerySet[FollowUpTask]:
    """Tasks that fell due in the period (up to now), cancelled ones aside."""
    now = timezone.now()
    rows = (
        scope.narrow(FollowUpTask.objects.visible_to(scope.user))
        .filter(within(scope, params, "due_at"), due_at__lte=now)
        .exclude(status=FollowUpTask.Status.CANCELLED)
    )
    rows = by_id(rows, params, "rep", "owner_id")
    timely = choice(params, "timely", TIMELINESS)
    if timely == "on_time":
        rows = rows.filter(_on_time)
    elif timely == "late":
        rows = rows.filter(status=FollowUpTask.Status.DONE, completed_at__gt=F("due_at"))
    elif timely == "missed":
        rows = rows.filter(status=FollowUpTask.Status.PENDING)
    return rows


_on_time = Q(status=FollowUpTask.Status.DONE, completed_at__lte=F("due_at"))


# --- the charts -------------------------------------------------------------------------------


def build(scope: Scope) -> Board:
    tier_charts, total, won = _tiers(scope)
    lifecycle_chart, lost = _lifecycle(scope)
    records_chart, record_total = _records(scope)
    timeliness_chart, timely_rate = _timeliness(scope)
    return Board(
        kpis=[
            Kpi("customers", _("Customers"), total, url=scope.drill("customer_tiers")),
            Kpi("won", _("Won customers"), won, hint=_("Customers whose type is won now.")),
            Kpi("lost", _("Turned lost"), lost, url=scope.drill("lifecycle", stage=Lifecycle.LOST)),
            Kpi(
                "records", _("Follow-up records"), record_total, url=scope.drill("followup_records")
            ),
            Kpi(
                "on_time",
                _("Tasks done on time"),
                timely_rate,
                "percent",
                url=scope.drill("tasks", timely="on_time"),
            ),
        ],
        charts=[*tier_charts, lifecycle_chart, records_chart, timeliness_chart],
    )


def _tiers(scope: Scope) -> tuple[list[Chart], int, int]:
    rows = list(
        tiered(scope, {})
        .values_list("value_tier", "activity_tier")
        .annotate(total=Count("*"), won=count_where(Q(type=Customer.Type.WON)))
        .order_by()
    )
    labels = dict(Tier.choices)
    charts = []
    for key, title, position in (
        ("value_tiers", _("Value tiers"), 0),
        ("activity_tiers", _("Activity tiers"), 1),
    ):
        counts: dict[str, int] = defaultdict(int)
        for row in rows:
            counts[row[position]] += row[2]
        field = "value_tier" if position == 0 else "activity_tier"
        shown = [tier for tier in TIERS if counts.get(tier)]
        charts.append(
            Chart(
                key=key,
                title=title,
                kind="pie",
                categories=[str(labels.get(tier, NONE)) for tier in shown],
                category_label=_("Tier"),
                series=[
                    Series(
                        _("Customers"),
                        [
                            Point(
                                counts[tier],
                                scope.drill("customer_tiers", **{field: tier or "none"}),
                            )
                            for tier in shown
                        ],
                    )
                ],
                note=_("All customers in scope, as the nightly job last computed them."),
            )
        )
    cross: dict[tuple[str, str], int] = {(row[0], row[1]): row[2] for row in rows}
    table_rows = [
        [
            Cell(str(labels.get(value, NONE))),
            *(
                Cell(
                    cross.get((value, activity), 0),
                    scope.drill(
                        "customer_tiers",
                        value_tier=value or "none",
                        activity_tier=activity or "none",
                    ),
                )
                for activity in TIERS
            ),
        ]
        for value in TIERS
    ]
    charts.append(
        Chart(
            key="tier_matrix",
            title=_("Value against activity"),
            kind="bar",
            categories=[str(labels.get(value, NONE)) for value in TIERS],
            category_label=_("Value tier"),
            series=[
                Series(
                    _("Activity: %(tier)s") % {"tier": labels.get(activity, NONE)},
                    [Point(cross.get((value, activity), 0)) for value in TIERS],
                )
                for activity in TIERS
            ],
            custom_table=Table(
                [
                    _("Value tier"),
                    *(_("Activity: %(tier)s") % {"tier": labels.get(a, NONE)} for a in TIERS),
                ],
                table_rows,
            ),
        )
    )
    total = sum(row[2] for row in rows)
    won = sum(row[3] for row in rows)
    return charts, total, won


def _lifecycle(scope: Scope) -> tuple[Chart, int]:
    bucket, key_of = month_buckets("history_date", scope.months())
    rows = (
        moves(scope, {})
        .annotate(month=bucket)
        .values_list("month", "lifecycle")
        .annotate(total=Count("id", distinct=True))
        .order_by()
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for month, stage, total in rows:
        counts[(key_of(month), stage)] += total
    keys = [month_key(month) for month in scope.months()]
    chart = Chart(
        key="lifecycle",
        title=_("Lifecycle movement per month"),
        kind="stacked",
        categories=keys,
        category_label=_("Month"),
        series=[
            Series(
                str(stage.label),
                [
                    Point(
                        counts.get((month, stage.value), 0),
                        scope.drill("lifecycle", month=month, stage=stage.value),
                    )
                    for month in keys
                ],
            )
            for stage in Lifecycle
        ],
        note=_("Customers entering each lifecycle stage; a new customer enters its first."),
    )
    return chart, sum(total for (_m, stage), total in counts.items() if stage == Lifecycle.LOST)


def _records(scope: Scope) -> tuple[Chart, int]:
    if rollups.available():
        bucket, key_of = month_buckets("day", scope.months(), dates=True)
        rows = (
            rollups.record_days(scope)
            .annotate(month=bucket)
            .values_list("month", "method_id")
            .annotate(total=Sum("records"))
            .order_by()
        )
    else:
        bucket, key_of = month_buckets("occurred_at", scope.months())
        rows = (
            records(scope, {})
            .annotate(month=bucket)
            .values_list("month", "method_id")
            .annotate(total=Count("*"))
            .order_by()
        )
    counts: dict[tuple[str, Any], int] = defaultdict(int)
    for month, method, total in rows:
        counts[(key_of(month), method)] += total
    methods = names(FollowUpMethod.objects.all())
    keys = [month_key(month) for month in scope.months()]
    used = sorted({method for _month, method in counts})
    chart = Chart(
        key="followup_records",
        title=_("Follow-up records by method"),
        kind="stacked",
        categories=keys,
        category_label=_("Month"),
        series=[
            Series(
                label(methods, method, NONE),
                [
                    Point(
                        counts.get((month, method), 0),
                        scope.drill("followup_records", month=month, method=method),
                    )
                    for month in keys
                ],
            )
            for method in used
        ],
    )
    return chart, sum(counts.values())


def _timeliness(scope: Scope) -> tuple[Chart, float | None]:
    due = tasks(scope, {})
    counted: list[Any] = []
    if rollups.available():
        # Days before today from the rollup; today's tasks, still falling due, from the tasks.
        counted = list(rollups.task_counts(scope))
        due = due.filter(due_at__gte=scope.moment(timezone.localdate()))
    counted += (
        due.values_list("owner_id")
        .annotate(
            on_time=Count("due_at", filter=_on_time),
            late=Count(
                "due_at", filter=Q(status=FollowUpTask.Status.DONE, completed_at__gt=F("due_at"))
            ),
            missed=Count("due_at", filter=Q(status=FollowUpTask.Status.PENDING)),
        )
        .order_by()
    )
    sums: dict[int, list[int]] = {}
    for owner, *counts in counted:
        total = sums.setdefault(owner, [0, 0, 0])
        for index, count in enumerate(counts):
            total[index] += count
    rows = [(owner, *counts) for owner, counts in sums.items() if any(counts)]
    people = names(User.objects.all())
    rows.sort(key=lambda row: label(people, row[0], NONE))
    categories = [label(people, row[0], NONE) for row in rows]
    series = [
        Series(
            str(caption),
            [Point(row[index + 1], scope.drill("tasks", rep=row[0], timely=key)) for row in rows],
        )
        for index, (key, caption) in enumerate(TIMELINESS.items())
    ]
    series.append(
        Series(
            _("On time (%)"),
            [Point(rate(row[1], row[1] + row[2] + row[3])) for row in rows],
            unit="percent",
        )
    )
    on_time = sum(row[1] for row in rows)
    due = sum(row[1] + row[2] + row[3] for row in rows)
    chart = Chart(
        key="timeliness",
        title=_("Follow-up timeliness by rep"),
        kind="stacked",
        categories=categories,
        category_label=_("Sales rep"),
        series=series,
        note=_(
            "Tasks that fell due in the period: done by their due time, done later, or not yet "
            "done."
        ),
    )
    return chart, rate(on_time, due)


# --- registration -----------------------------------------------------------------------------


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


TIER_COLUMNS = [
    Column(gettext_lazy("Customer"), lambda c: f"{c.name} ({c.number})"),
    Column(gettext_lazy("Customer type"), lambda c: c.get_type_display()),
    Column(gettext_lazy("Lifecycle stage"), lambda c: c.get_lifecycle_display()),
    Column(gettext_lazy("Value tier"), lambda c: c.get_value_tier_display()),
    Column(gettext_lazy("Activity tier"), lambda c: c.get_activity_tier_display()),
    Column(gettext_lazy("Owner"), lambda c: str(c.owner or "")),
]

for dataset in (
    Dataset(
        "customer_tiers",
        gettext_lazy("Customers by tier"),
        "customers",
        lambda scope, params: (
            tiered(scope, params).select_related("owner").order_by("-created_at", "-pk")
        ),
        TIER_COLUMNS,
    ),
    Dataset(
        "lifecycle",
        gettext_lazy("Customers entering a lifecycle stage"),
        "customers",
        lambda scope, params: (
            moved(scope, params).select_related("owner").order_by("-created_at", "-pk")
        ),
        TIER_COLUMNS,
    ),
    Dataset(
        "followup_records",
        gettext_lazy("Follow-up records"),
        "customers",
        lambda scope, params: (
            records(scope, params)
            .select_related("customer", "method", "owner")
            .order_by("-occurred_at", "-pk")
        ),
        [
            Column(gettext_lazy("Customer"), lambda r: r.customer.name),
            Column(gettext_lazy("Topic"), lambda r: r.topic),
            Column(gettext_lazy("Method"), lambda r: str(r.method)),
            Column(gettext_lazy("Time"), lambda r: _local(r.occurred_at)),
            Column(gettext_lazy("Owner"), lambda r: str(r.owner)),
        ],
        link=lambda r: r.customer.get_absolute_url(),
    ),
    Dataset(
        "tasks",
        gettext_lazy("Follow-up tasks due"),
        "customers",
        lambda scope, params: (
            tasks(scope, params).select_related("customer", "owner").order_by("-due_at", "-pk")
        ),
        [
            Column(gettext_lazy("Task"), lambda t: t.title),
            Column(gettext_lazy("Customer"), lambda t: t.customer.name),
            Column(gettext_lazy("Due"), lambda t: _local(t.due_at)),
            Column(gettext_lazy("Completed at"), lambda t: _local(t.completed_at)),
            Column(gettext_lazy("Status"), lambda t: t.get_status_display()),
            Column(gettext_lazy("Owner"), lambda t: str(t.owner)),
        ],
    ),
):
    datasets.register(dataset)

register(
    Dashboard(
        key="customers",
        title=gettext_lazy("Customers"),
        icon="bi-people",
        order=20,
        roles=SALES_ROLES,
        build=build,
        metrics=[
            ("value_tiers", gettext_lazy("Value tiers")),
            ("activity_tiers", gettext_lazy("Activity tiers")),
            ("lifecycle", gettext_lazy("Lifecycle movement per month")),
            ("followup_records", gettext_lazy("Follow-up records by method")),
            ("timeliness", gettext_lazy("Follow-up timeliness by rep")),
        ],
        description=gettext_lazy("Tiers, lifecycle movement and follow-up timeliness."),
    )
)
