"""销售分析: acquisition by source, the conversion funnel, win rate and lost reasons, time in
stage, the weighted pipeline, and sales by rep, team, region, industry, product or source."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import datasets, rollups
from analytics.charts import Board, Cell, Chart, Kpi, Point, Series, Table
from analytics.dashboards import SALES_ROLES, Dashboard, label, names, register
from analytics.datasets import Column, Dataset, by_id, choice, within
from analytics.models import ChannelSpend
from analytics.scope import Scope, month_key
from analytics.stats import AFTER, BEFORE, month_buckets, rate
from crm.accounts.models import Region, Team, User
from crm.accounts.roles import Level
from crm.core.aggregates import count_where
from crm.core.templatetags.crm import cny
from customers.models import Customer, Industry, LeadInquiry, SourceChannel
from opportunities.models import (
    LostReason,
    Opportunity,
    Order,
    OrderLine,
    Stage,
    StageVisit,
)
from opportunities.models.pipeline import MONEY

Kind = Stage.Kind
WON_KINDS = (Kind.WON, Kind.COLLECTED)
TOP_GROUPS = 8
PIPELINE_MONTHS = 6
NONE = gettext_lazy("Not set")
OTHER = gettext_lazy("Others")

DIMENSIONS = [
    ("rep", gettext_lazy("Sales rep")),
    ("team", gettext_lazy("Team")),
    ("region", gettext_lazy("Region")),
    ("industry", gettext_lazy("Industry")),
    ("product", gettext_lazy("Product")),
    ("source", gettext_lazy("Source channel")),
]


# --- the records, within the scope ------------------------------------------------------------


def is_whole_company(scope: Scope) -> bool:
    return scope.user.visibility.level == Level.ALL and scope.team is None and scope.owner is None


def customers(scope: Scope) -> QuerySet[Customer]:
    return scope.narrow(Customer.objects.visible_to(scope.user))


def opportunities(scope: Scope) -> QuerySet[Opportunity]:
    return scope.narrow(Opportunity.objects.visible_to(scope.user))


def orders(scope: Scope) -> QuerySet[Order]:
    return scope.narrow(Order.objects.visible_to(scope.user))


def of_customers(queryset: QuerySet[Any], scope: Scope, field: str = "customer") -> QuerySet[Any]:
    """Rows hanging on a customer, of the customers in scope (no filter for the whole company)."""
    if is_whole_company(scope):
        return queryset
    return queryset.filter(**{f"{field}__in": customers(scope).values("pk")})


def of_opportunities(queryset: QuerySet[Any], scope: Scope) -> QuerySet[Any]:
    if is_whole_company(scope):
        return queryset
    return queryset.filter(opportunity__in=opportunities(scope).values("pk"))


def new_customers(scope: Scope, params: Mapping[str, str]) -> QuerySet[Customer]:
    records = customers(scope).filter(within(scope, params, "created_at"))
    if choice(params, "outcome", {"won"}):
        records = records.filter(type=Customer.Type.WON)
    return by_id(records, params, "source", "source_id")


def leads(scope: Scope, params: Mapping[str, str]) -> QuerySet[LeadInquiry]:
    records = of_customers(LeadInquiry.objects.all(), scope)
    return by_id(
        records.filter(within(scope, params, "captured_at")), params, "source", "source_id"
    )


def funnel_stages(stages: list[Stage] | None = None) -> list[Stage]:
    return [stage for stage in stages or _stages() if stage.kind in (Kind.OPEN, Kind.WON)]


def _stages() -> list[Stage]:
    from crm.core.choices import cached_rows

    return cached_rows(Stage.objects.filter(is_active=True).order_by("sort_order"))


def funnel(scope: Scope, params: Mapping[str, str]) -> QuerySet[Opportunity]:
    records = opportunities(scope).filter(within(scope, params, "created_at"))
    code = params.get("reached", "")
    if code:
        stage = next((stage for stage in funnel_stages() if stage.code == code), None)
        if stage is None:
            raise datasets.BadPointError("reached")
        records = records.filter(furthest_stage__sort_order__gte=stage.sort_order)
    return records


def closed(scope: Scope, params: Mapping[str, str]) -> QuerySet[Opportunity]:
    records = opportunities(scope).filter(
        within(scope, params, "closed_at"), stage__kind__in=(*WON_KINDS, Kind.LOST)
    )
    outcome = choice(params, "outcome", {"won", "lost"})
    if outcome == "won":
        records = records.filter(stage__kind__in=WON_KINDS)
    elif outcome == "lost":
        records = records.filter(stage__kind=Kind.LOST)
    return by_id(records, params, "reason", "lost_reason_id")


def stage_visits(scope: Scope, params: Mapping[str, str]) -> QuerySet[StageVisit]:
    records = of_opportunities(StageVisit.objects.filter(within(scope, params, "left_at")), scope)
    return by_id(records, params, "stage", "stage_id")


def pipeline(scope: Scope, params: Mapping[str, str]) -> QuerySet[Opportunity]:
    """Open opportunities by expected close month: forward-looking, whatever the date range."""
    records = opportunities(scope).filter(stage__kind=Kind.OPEN)
    this_month = timezone.localdate().replace(day=1)
    first, after = _pipeline_window(this_month)
    bucket = choice(params, "bucket", {"overdue", "later"})
    if bucket == "overdue":
        return records.filter(expected_close_date__lt=first)
    if bucket == "later":
        return records.filter(expected_close_date__gte=after)
    if month := params.get("month"):
        try:
            start = datetime.date.fromisoformat(f"{month}-01")
        except ValueError as error:
            raise datasets.BadPointError("month") from error
        end = (start + datetime.timedelta(days=32)).replace(day=1)
        return records.filter(expected_close_date__gte=start, expected_close_date__lt=end)
    return records


def _pipeline_window(this_month: datetime.date) -> tuple[datetime.date, datetime.date]:
    after = this_month
    for _month in range(PIPELINE_MONTHS):
        after = (after + datetime.timedelta(days=32)).replace(day=1)
    return this_month, after


GROUP_FIELDS = {
    "rep": "owner_id",
    "team": "owner__team_id",
    "region": "customer__region_id",
    "industry": "customer__industry_id",
    "source": "customer__source_id",
}
GROUP_PARAMS = {"rep": "rep", "team": "group", "region": "region", "industry": "industry"}


def sold(scope: Scope, params: Mapping[str, str]) -> QuerySet[Order]:
    records = orders(scope).filter(within(scope, params, "signed_on", dates=True))
    for dimension, field in GROUP_FIELDS.items():
        records = by_id(records, params, GROUP_PARAMS.get(dimension, dimension), field)
    return records


def sold_lines(scope: Scope, params: Mapping[str, str]) -> QuerySet[OrderLine]:
    records = OrderLine.objects.filter(
        within(scope, params, "order__signed_on", dates=True),
        order__in=orders(scope).values("pk"),
    )
    if product := params.get("product"):
        records = records.filter(product=product)
    return records


LINE_TOTAL = ExpressionWrapper(F("unit_price") * F("quantity"), output_field=DecimalField(**MONEY))


# --- the charts -------------------------------------------------------------------------------


def build(scope: Scope) -> Board:
    source_names = names(SourceChannel.objects.all())
    months = scope.months()
    stages = _stages()  # one read of the cache for the two charts that name stages
    acquisition, sources_table, totals = _acquisition(scope, months, source_names)
    funnel_chart = _funnel(scope, stages)
    win_chart, lost_chart, win_rate = _outcomes(scope, months)
    pipeline_chart, weighted = _pipeline(scope)
    sales_chart, won_amount = _sales(scope, months)
    kpis = [
        Kpi(
            "new_customers",
            _("New customers"),
            totals["customers"],
            url=scope.drill("new_customers"),
        ),
        Kpi("leads", _("Leads captured"), totals["leads"], url=scope.drill("leads")),
        Kpi(
            "win_rate",
            _("Win rate"),
            win_rate,
            "percent",
            url=scope.drill("closed"),
            hint=_("Won among the opportunities closed in the period."),
        ),
        Kpi("signed", _("Signed orders"), won_amount, "cny", url=scope.drill("orders")),
        Kpi(
            "weighted",
            _("Weighted pipeline"),
            weighted,
            "cny",
            url=scope.drill("pipeline"),
            hint=_("Open opportunities: expected amount × the stage's win probability."),
        ),
    ]
    return Board(
        kpis=kpis,
        charts=[
            *acquisition,
            sources_table,
            funnel_chart,
            win_chart,
            lost_chart,
            _stage_time(scope, stages),
            pipeline_chart,
            sales_chart,
        ],
    )


def _acquisition(
    scope: Scope, months: list[datetime.date], source_names: dict[int, str]
) -> tuple[list[Chart], Chart, dict[str, int]]:
    created_month, created_key = month_buckets("created_at", months)
    captured_month, captured_key = month_buckets("captured_at", months)
    created = (
        new_customers(scope, {})
        .annotate(month=created_month)
        .values_list("month", "source_id")
        .annotate(total=Count("*"), won=count_where(Q(type=Customer.Type.WON)))
        .order_by()
    )
    captured = (
        leads(scope, {})
        .annotate(month=captured_month)
        .values_list("month", "source_id")
        .annotate(total=Count("*"))
        .order_by()
    )
    customer_counts: dict[tuple[str, Any], int] = defaultdict(int)
    won_by_source: dict[Any, int] = defaultdict(int)
    for month, source, total, won in created:
        customer_counts[(created_key(month), source)] += total
        won_by_source[source] += won
    lead_counts: dict[tuple[str, Any], int] = defaultdict(int)
    for month, source, total in captured:
        lead_counts[(captured_key(month), source)] += total
    month_keys = [month_key(month) for month in months]
    charts = []
    for key, title, dataset, counts in (
        ("new_customers", _("New customers by source"), "new_customers", customer_counts),
        ("leads", _("Leads captured by source"), "leads", lead_counts),
    ):
        sources = sorted({source for _month, source in counts}, key=lambda s: (s is None, s))
        charts.append(
            Chart(
                key=key,
                title=title,
                kind="stacked",
                categories=month_keys,
                category_label=_("Month"),
                series=[
                    Series(
                        label(source_names, source, NONE),
                        [
                            Point(
                                counts.get((month, source), 0),
                                scope.drill(dataset, month=month, source=source or "none"),
                            )
                            for month in month_keys
                        ],
                    )
                    for source in sources
                ],
            )
        )
    by_source_customers: dict[Any, int] = defaultdict(int)
    for (_month, source), total in customer_counts.items():
        by_source_customers[source] += total
    by_source_leads: dict[Any, int] = defaultdict(int)
    for (_month, source), total in lead_counts.items():
        by_source_leads[source] += total
    spend = dict(
        ChannelSpend.objects.filter(month__gte=scope.start.replace(day=1), month__lte=scope.end)
        .order_by()
        .values_list("channel_id")
        .annotate(total=Sum("amount"))
    )
    sources = sorted({*by_source_customers, *by_source_leads, *spend}, key=lambda s: (s is None, s))
    rows = []
    for source in sources:
        new, won, spent = by_source_customers[source], won_by_source[source], spend.get(source)
        rows.append(
            [
                Cell(label(source_names, source, NONE)),
                Cell(by_source_leads[source], scope.drill("leads", source=source or "none")),
                Cell(new, scope.drill("new_customers", source=source or "none")),
                Cell(won, scope.drill("new_customers", source=source or "none", outcome="won")),
                Cell(rate(won, new), unit="percent"),
                Cell(spent, unit="cny"),
                Cell(spent / new if spent is not None and new else None, unit="cny"),
            ]
        )
    source_chart = Chart(
        key="sources",
        title=_("Source analysis"),
        kind="bar",
        categories=[row[0].value for row in rows],
        category_label=_("Source channel"),
        series=[
            Series(_("Leads"), [Point(row[1].value, row[1].url) for row in rows]),
            Series(_("New customers"), [Point(row[2].value, row[2].url) for row in rows]),
            Series(_("Conversion (%)"), [Point(row[4].value) for row in rows], unit="percent"),
        ],
        note=_(
            "Conversion: new customers of the period who are now won customers. Acquisition "
            "cost: the channel's spend (entered in admin) per new customer."
        ),
        custom_table=Table(
            [
                _("Source channel"),
                _("Leads"),
                _("New customers"),
                _("Won since"),
                _("Conversion (%)"),
                _("Spend"),
                _("Acquisition cost"),
            ],
            rows,
        ),
    )
    totals = {"customers": sum(customer_counts.values()), "leads": sum(lead_counts.values())}
    return charts, source_chart, totals


def _funnel(scope: Scope, all_stages: list[Stage]) -> Chart:
    stages = funnel_stages(all_stages)
    by_stage = dict(
        funnel(scope, {}).values_list("furthest_stage_id").annotate(total=Count("*")).order_by()
    )
    # The furthest stage a deal reached counts it at every step up to that one.
    order = {stage.pk: stage.sort_order for stage in all_stages}
    reached = [
        sum(total for pk, total in by_stage.items() if pk in order and order[pk] >= s.sort_order)
        for s in stages
    ]
    urls = [scope.drill("funnel", reached=stage.code) for stage in stages]
    table_rows = []
    for index, stage in enumerate(stages):
        previous = reached[index - 1] if index else None
        table_rows.append(
            [
                Cell(str(stage)),
                Cell(reached[index], urls[index]),
                Cell(rate(reached[index], reached[0]), unit="percent"),
                Cell(rate(reached[index], previous) if index else None, unit="percent"),
                Cell(previous - reached[index] if previous is not None else None),
            ]
        )
    return Chart(
        key="funnel",
        title=_("Conversion funnel"),
        kind="funnel",
        categories=[str(stage) for stage in stages],
        series=[
            Series(
                _("Opportunities"), [Point(n, url) for n, url in zip(reached, urls, strict=True)]
            )
        ],
        note=_(
            "Opportunities created in the period, by the furthest stage they reached; the "
            "drop-off is how many stopped before the next stage."
        ),
        custom_table=Table(
            [
                _("Stage"),
                _("Reached"),
                _("Of all (%)"),
                _("From previous stage (%)"),
                _("Dropped off before"),
            ],
            table_rows,
        ),
    )


def _outcomes(scope: Scope, months: list[datetime.date]) -> tuple[Chart, Chart, float | None]:
    closed_month, closed_key = month_buckets("closed_at", months)
    # One pass over the closed deals for both charts (by month, and the lost by reason), read
    # from the closed-at index alone.
    rows = (
        closed(scope, {})
        .annotate(month=closed_month)
        .values_list("month", "lost_reason_id")
        .annotate(
            won=count_where(Q(stage__kind__in=WON_KINDS)),
            lost=count_where(Q(stage__kind=Kind.LOST)),
        )
        .order_by()
    )
    won: dict[str, int] = defaultdict(int)
    lost: dict[str, int] = defaultdict(int)
    lost_by_reason: dict[Any, int] = defaultdict(int)
    for month, reason, won_count, lost_count in rows:
        key = closed_key(month)
        won[key] += won_count
        lost[key] += lost_count
        if lost_count:
            lost_by_reason[reason] += lost_count
    keys = [month_key(month) for month in months]
    win_chart = Chart(
        key="win_rate",
        title=_("Won and lost per month"),
        kind="bar",
        categories=keys,
        category_label=_("Month"),
        series=[
            Series(
                _("Won"),
                [Point(won[k], scope.drill("closed", month=k, outcome="won")) for k in keys],
            ),
            Series(
                _("Lost"),
                [Point(lost[k], scope.drill("closed", month=k, outcome="lost")) for k in keys],
            ),
            Series(
                _("Win rate (%)"),
                [Point(rate(won[k], won[k] + lost[k])) for k in keys],
                unit="percent",
            ),
        ],
    )
    reason_names = names(LostReason.objects.all())
    # The most frequent first; equal ones by reason, so that their order holds from one build
    # to the next.
    reason_rows = sorted(
        lost_by_reason.items(), key=lambda row: (-row[1], row[0] is None, row[0] or 0)
    )
    lost_chart = Chart(
        key="lost_reasons",
        title=_("Lost reasons"),
        kind="pie",
        categories=[label(reason_names, reason, NONE) for reason, _total in reason_rows],
        category_label=_("Lost reason"),
        series=[
            Series(
                _("Lost opportunities"),
                [
                    Point(total, scope.drill("closed", outcome="lost", reason=reason or "none"))
                    for reason, total in reason_rows
                ],
            )
        ],
    )
    return win_chart, lost_chart, rate(sum(won.values()), sum(won.values()) + sum(lost.values()))


def _stage_time(scope: Scope, all_stages: list[Stage]) -> Chart:
    averages: dict[Any, tuple[datetime.timedelta, int]] = {}
    if rollups.available():
        # The stays per day, owner and stage (a third as many rows as a year of stays).
        for stage, micros, total in (
            rollups.stage_days(scope)
            .values_list("stage_id")
            .annotate(spent=Sum("micros"), total=Sum("stays"))
            .order_by()
        ):
            if total:
                averages[stage] = (datetime.timedelta(microseconds=int(micros)) / total, total)
    else:
        rows = (
            stage_visits(scope, {})
            .values_list("stage_id")
            .annotate(average=Avg(F("left_at") - F("entered_at")), total=Count("*"))
            .order_by()
        )
        averages = {stage: (average, total) for stage, average, total in rows}
    stages = [stage for stage in all_stages if stage.kind == Kind.OPEN]
    return Chart(
        key="stage_time",
        title=_("Average time in each stage"),
        kind="hbar",
        unit="days",
        categories=[str(stage) for stage in stages],
        category_label=_("Stage"),
        series=[
            Series(
                _("Days"),
                [
                    Point(
                        _days(averages.get(stage.pk, (None, 0))[0]),
                        scope.drill("stage_visits", stage=stage.pk),
                    )
                    for stage in stages
                ],
            ),
            Series(
                _("Stays"),
                [Point(averages.get(stage.pk, (None, 0))[1]) for stage in stages],
                unit="count",
            ),
        ],
        note=_("Stays in the stage that ended in the period."),
    )


def _days(duration: datetime.timedelta | None) -> float | None:
    if duration is None:
        return None
    return round(duration.total_seconds() / 86400, 1)


def _pipeline(scope: Scope) -> tuple[Chart, Decimal]:
    this_month = timezone.localdate().replace(day=1)
    first, after = _pipeline_window(this_month)
    window = []
    month = first
    while month < after:
        window.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    # The month after the window closes it: later dates fall after it.
    bucket, key_of = month_buckets("expected_close_date", [*window, after], dates=True)
    # Summed per stage probability and weighted here, exactly as per deal (decimals): the
    # database adds amounts, with no multiplication and division on each row.
    rows = (
        pipeline(scope, {})
        .annotate(month=bucket)
        .values_list("month", "stage__probability")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    keys = [month_key(month) for month in window]
    buckets: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (Decimal(0), Decimal(0)))
    for month_value, probability, amount in rows:
        key = key_of(month_value)
        key = {BEFORE: "overdue", AFTER: "later", month_key(after): "later"}.get(key, key)
        old = buckets[key]
        weight = (amount or 0) * probability / Decimal(100)
        buckets[key] = (old[0] + (amount or 0), old[1] + weight)
    categories = ["overdue", *keys, "later"]
    captions = {"overdue": _("Overdue"), "later": _("Later")}

    def url(key: str) -> str:
        if key in captions:
            return scope.drill("pipeline", bucket=key)
        return scope.drill("pipeline", month=key)

    total_weighted = sum((value[1] for value in buckets.values()), Decimal(0))
    return (
        Chart(
            key="pipeline",
            title=_("Pipeline and forecast by expected close month"),
            kind="bar",
            unit="cny",
            categories=[str(captions.get(key, key)) for key in categories],
            category_label=_("Expected close"),
            series=[
                Series(_("Expected amount"), [Point(buckets[k][0], url(k)) for k in categories]),
                Series(
                    _("Weighted"),
                    [Point(buckets[k][1].quantize(Decimal("0.01")), url(k)) for k in categories],
                ),
            ],
            note=_(
                "Open opportunities now, whatever the period chosen; overdue: expected to have "
                "closed before this month."
            ),
        ),
        total_weighted.quantize(Decimal("0.01")),
    )


def _sales(scope: Scope, months: list[datetime.date]) -> tuple[Chart, Decimal]:
    dimension = scope.by if scope.by in dict(DIMENSIONS) else "rep"
    if dimension == "product":
        bucket, key_of = month_buckets("order__signed_on", months, dates=True)
        rows = (
            sold_lines(scope, {})
            .annotate(month=bucket)
            .values_list("month", "product")
            .annotate(total=Sum(LINE_TOTAL))
            .order_by()
        )
        labels: dict[Any, str] = {}
    else:
        field = GROUP_FIELDS[dimension]
        bucket, key_of = month_buckets("signed_on", months, dates=True)
        rows = (
            sold(scope, {})
            .annotate(month=bucket)
            .values_list("month", field)
            .annotate(total=Sum("amount"))
            .order_by()
        )
        labels = _group_names(dimension)
    amounts: dict[tuple[str, Any], Decimal] = defaultdict(Decimal)
    group_totals: dict[Any, Decimal] = defaultdict(Decimal)
    for month, group, total in rows:
        amounts[(key_of(month), group)] += total or 0
        group_totals[group] += total or 0
    ranked = sorted(group_totals, key=lambda group: -group_totals[group])
    shown, rest = ranked[:TOP_GROUPS], ranked[TOP_GROUPS:]
    keys = [month_key(month) for month in months]
    param = GROUP_PARAMS.get(dimension, dimension)

    def url(month: str, group: Any) -> str:
        if dimension == "product":
            return scope.drill("order_lines", month=month, product=group)
        return scope.drill("orders", month=month, **{param: group or "none"})

    series = [
        Series(
            group if dimension == "product" else label(labels, group, NONE),
            [Point(amounts.get((month, group), Decimal(0)), url(month, group)) for month in keys],
        )
        for group in shown
    ]
    if rest:
        series.append(
            Series(
                str(OTHER),
                [
                    Point(sum((amounts.get((month, g), Decimal(0)) for g in rest), Decimal(0)))
                    for month in keys
                ],
            )
        )
    title = _("Sales by %(dimension)s per month") % {"dimension": dict(DIMENSIONS)[dimension]}
    total = sum(group_totals.values(), Decimal(0))
    return (
        Chart(
            key="sales",
            title=title,
            kind="stacked",
            unit="cny",
            categories=keys,
            category_label=_("Month"),
            series=series,
            note=_("Signed orders by signing date; %(total)s in the period.")
            % {"total": cny(total)},
        ),
        total,
    )


def _group_names(dimension: str) -> dict[Any, str]:
    if dimension == "rep":
        return names(User.objects.all())
    if dimension == "team":
        return names(Team.objects.all())
    if dimension == "region":
        return names(Region.objects.all())
    if dimension == "industry":
        return names(Industry.objects.select_related("parent"))
    return names(SourceChannel.objects.all())


# --- registration -----------------------------------------------------------------------------


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


CUSTOMER_COLUMNS = [
    Column(gettext_lazy("Customer"), lambda c: f"{c.name} ({c.number})"),
    Column(gettext_lazy("Customer type"), lambda c: c.get_type_display()),
    Column(gettext_lazy("Source channel"), lambda c: str(c.source or "")),
    Column(gettext_lazy("Owner"), lambda c: str(c.owner or "")),
    Column(gettext_lazy("Created"), lambda c: _local(c.created_at)),
]
OPPORTUNITY_COLUMNS = [
    Column(gettext_lazy("Opportunity"), lambda o: o.name),
    Column(gettext_lazy("Customer"), lambda o: o.customer.name),
    Column(gettext_lazy("Stage"), lambda o: str(o.stage)),
    Column(gettext_lazy("Expected amount"), lambda o: o.amount, "cny"),
    Column(gettext_lazy("Expected close date"), lambda o: o.expected_close_date.isoformat()),
    Column(gettext_lazy("Owner"), lambda o: str(o.owner)),
    Column(gettext_lazy("Lost reason"), lambda o: str(o.lost_reason or "")),
    Column(gettext_lazy("Created"), lambda o: _local(o.created_at)),
]


def _opportunity_rows(records: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    return records.select_related("customer", "stage", "owner", "lost_reason").order_by(
        "-created_at", "-pk"
    )


for dataset in (
    Dataset(
        "new_customers",
        gettext_lazy("New customers"),
        "sales",
        lambda scope, params: (
            new_customers(scope, params)
            .select_related("source", "owner")
            .order_by("-created_at", "-pk")
        ),
        CUSTOMER_COLUMNS,
    ),
    Dataset(
        "leads",
        gettext_lazy("Leads captured"),
        "sales",
        lambda scope, params: (
            leads(scope, params)
            .select_related("customer", "source")
            .order_by("-captured_at", "-pk")
        ),
        [
            Column(gettext_lazy("Customer"), lambda lead: lead.customer.name),
            Column(gettext_lazy("Contact"), lambda lead: lead.contact_name),
            Column(gettext_lazy("Source channel"), lambda lead: str(lead.source)),
            Column(
                gettext_lazy("New customer"), lambda lead: _("Yes") if lead.created_new else _("No")
            ),
            Column(gettext_lazy("Captured at"), lambda lead: _local(lead.captured_at)),
        ],
        contact_data=True,
        link=lambda lead: lead.customer.get_absolute_url(),
    ),
    Dataset(
        "funnel",
        gettext_lazy("Opportunities in the funnel"),
        "sales",
        lambda scope, params: _opportunity_rows(funnel(scope, params)),
        OPPORTUNITY_COLUMNS,
    ),
    Dataset(
        "closed",
        gettext_lazy("Closed opportunities"),
        "sales",
        lambda scope, params: _opportunity_rows(closed(scope, params)),
        OPPORTUNITY_COLUMNS,
    ),
    Dataset(
        "pipeline",
        gettext_lazy("Open pipeline"),
        "sales",
        lambda scope, params: _opportunity_rows(pipeline(scope, params)),
        OPPORTUNITY_COLUMNS,
    ),
    Dataset(
        "stage_visits",
        gettext_lazy("Stays in a stage"),
        "sales",
        lambda scope, params: (
            stage_visits(scope, params)
            .select_related("opportunity__customer", "stage", "opportunity__owner")
            .order_by("-left_at", "-pk")
        ),
        [
            Column(gettext_lazy("Opportunity"), lambda visit: visit.opportunity.name),
            Column(gettext_lazy("Customer"), lambda visit: visit.opportunity.customer.name),
            Column(gettext_lazy("Stage"), lambda visit: str(visit.stage)),
            Column(gettext_lazy("Entered"), lambda visit: _local(visit.entered_at)),
            Column(gettext_lazy("Left"), lambda visit: _local(visit.left_at)),
            Column(
                gettext_lazy("Days"), lambda visit: _days(visit.left_at - visit.entered_at), "days"
            ),
            Column(gettext_lazy("Owner"), lambda visit: str(visit.opportunity.owner)),
        ],
        link=lambda visit: visit.opportunity.get_absolute_url(),
    ),
    Dataset(
        "orders",
        gettext_lazy("Signed orders"),
        "sales",
        lambda scope, params: (
            sold(scope, params).select_related("customer", "owner").order_by("-signed_on", "-pk")
        ),
        [
            Column(gettext_lazy("Order number"), lambda order: order.number),
            Column(gettext_lazy("Customer"), lambda order: order.customer.name),
            Column(gettext_lazy("Amount"), lambda order: order.amount, "cny"),
            Column(gettext_lazy("Signing date"), lambda order: order.signed_on.isoformat()),
            Column(gettext_lazy("Owner"), lambda order: str(order.owner)),
        ],
    ),
    Dataset(
        "order_lines",
        gettext_lazy("Order lines"),
        "sales",
        lambda scope, params: (
            sold_lines(scope, params)
            .select_related("order__customer")
            .order_by("-order__signed_on", "-pk")
        ),
        [
            Column(gettext_lazy("Product"), lambda line: line.product),
            Column(gettext_lazy("Order number"), lambda line: line.order.number),
            Column(gettext_lazy("Customer"), lambda line: line.order.customer.name),
            Column(gettext_lazy("Amount"), lambda line: line.total, "cny"),
            Column(gettext_lazy("Signing date"), lambda line: line.order.signed_on.isoformat()),
        ],
        link=lambda line: line.order.get_absolute_url(),
    ),
):
    datasets.register(dataset)


register(
    Dashboard(
        key="sales",
        title=gettext_lazy("Sales"),
        icon="bi-graph-up-arrow",
        order=10,
        roles=SALES_ROLES,
        build=build,
        dimensions=DIMENSIONS,
        metrics=[
            ("new_customers", gettext_lazy("New customers by source")),
            ("leads", gettext_lazy("Leads captured by source")),
            ("sources", gettext_lazy("Source analysis")),
            ("funnel", gettext_lazy("Conversion funnel")),
            ("win_rate", gettext_lazy("Won and lost per month")),
            ("lost_reasons", gettext_lazy("Lost reasons")),
            ("stage_time", gettext_lazy("Average time in each stage")),
            ("pipeline", gettext_lazy("Pipeline and forecast")),
            ("sales", gettext_lazy("Sales per month")),
        ],
        description=gettext_lazy(
            "New customers and leads, the funnel, win rate, time in stage, pipeline and sales."
        ),
    )
)
