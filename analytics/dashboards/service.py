"""服务分析: tickets created and closed per day; first-response and resolution times (median and
90th percentile, in working hours) by priority, category, department or agent; the SLA breach
rate; the age of the open backlog; satisfaction (CSAT) and recommendation (NPS) per month."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import datasets
from analytics.charts import Board, Chart, Kpi, Point, Series
from analytics.dashboards import SERVICE_ROLES, Dashboard, label, names, register
from analytics.datasets import Column, Dataset, by_id, choice, within
from analytics.scope import Scope, month_key
from analytics.stats import day_buckets, hours, month_buckets, percentiles, rate
from crm.accounts.models import Team, User
from crm.core.aggregates import count_where
from tickets.models import Priority, Survey, Ticket, TicketCategory

DIMENSIONS = [
    ("priority", gettext_lazy("Priority")),
    ("category", gettext_lazy("Category")),
    ("department", gettext_lazy("Department")),
    ("agent", gettext_lazy("Agent")),
]
GROUP_FIELDS = {
    "priority": "priority",
    "category": "category_id",
    "department": "department_id",
    "agent": "assignee_id",
}
BREACHED = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
AGES = [
    ("day", gettext_lazy("Under 1 day"), 0, 1),
    ("days3", gettext_lazy("1–3 days"), 1, 3),
    ("week", gettext_lazy("3–7 days"), 3, 7),
    ("month", gettext_lazy("7–30 days"), 7, 30),
    ("older", gettext_lazy("Over 30 days"), 30, None),
]
NONE = gettext_lazy("Not set")


# --- the records ------------------------------------------------------------------------------


def tickets(scope: Scope) -> QuerySet[Ticket]:
    """Visible tickets, narrowed to the chosen agent or to the chosen team (its departments'
    tickets and those assigned to its members)."""
    records = Ticket.objects.visible_to(scope.user)
    if scope.owner is not None:
        return records.filter(assignee=scope.owner)
    if scope.team is not None:
        teams = scope.team_ids
        return records.filter(Q(department_id__in=teams) | Q(assignee__team_id__in=teams))
    return records


def _grouped(records: QuerySet[Ticket], params: Mapping[str, str]) -> QuerySet[Ticket]:
    if (priority := choice(params, "priority", Priority.values)) is not None:
        records = records.filter(priority=priority)
    for name in ("category", "department", "agent"):
        records = by_id(records, params, name, GROUP_FIELDS[name])
    return records


def created(scope: Scope, params: Mapping[str, str]) -> QuerySet[Ticket]:
    records = _grouped(tickets(scope).filter(within(scope, params, "created_at")), params)
    if params.get("breached") == "1":
        records = records.filter(BREACHED)
    if params.get("measured") == "response":
        records = records.filter(response_minutes__isnull=False)
    elif params.get("measured") == "resolution":
        records = records.filter(resolution_minutes__isnull=False)
    return records


def closed(scope: Scope, params: Mapping[str, str]) -> QuerySet[Ticket]:
    return _grouped(tickets(scope).filter(within(scope, params, "closed_at")), params)


def _age_bucket(now: datetime.datetime) -> Case:
    whens = [
        When(created_at__gt=now - datetime.timedelta(days=high), then=Value(key))
        for key, _caption, _low, high in AGES
        if high is not None
    ]
    return Case(*whens, default=Value("older"), output_field=CharField())


def backlog(scope: Scope, params: Mapping[str, str]) -> QuerySet[Ticket]:
    """Open tickets now, whatever the period chosen."""
    records = _grouped(tickets(scope).open(), params)
    if (age := choice(params, "age", [key for key, *_rest in AGES])) is not None:
        records = records.annotate(age=_age_bucket(timezone.now())).filter(age=age)
    return records


def surveys(scope: Scope, params: Mapping[str, str]) -> QuerySet[Survey]:
    records = (
        Survey.objects.visible_to(scope.user)
        .answered()
        .filter(within(scope, params, "answered_at"))
    )
    if scope.owner is not None:
        records = records.filter(agent=scope.owner)
    elif scope.team is not None:
        teams = scope.team_ids
        records = records.filter(Q(department_id__in=teams) | Q(agent__team_id__in=teams))
    if (kind := choice(params, "kind", Survey.Kind.values)) is not None:
        records = records.filter(kind=kind)
    return records


# --- the charts -------------------------------------------------------------------------------


def build(scope: Scope) -> Board:
    dimension = scope.by if scope.by in GROUP_FIELDS else "priority"
    opened, by_group = _created_counts(scope, dimension)
    volume, created_total, closed_total = _volume(scope, opened)
    response, resolution, median_response = _times(scope, dimension)
    breaches, breach_rate = _breaches(scope, dimension, by_group)
    satisfaction, csat, nps = _satisfaction(scope)
    return Board(
        kpis=[
            Kpi("created", _("Tickets created"), created_total, url=scope.drill("tickets")),
            Kpi("closed", _("Tickets closed"), closed_total, url=scope.drill("tickets_closed")),
            Kpi(
                "median_response",
                _("Median first response"),
                median_response,
                "hours",
                url=scope.drill("tickets", measured="response"),
                hint=_("In working hours of the company calendar."),
            ),
            Kpi(
                "breach_rate",
                _("SLA breach rate"),
                breach_rate,
                "percent",
                url=scope.drill("tickets", breached=1),
            ),
            Kpi(
                "csat",
                _("CSAT (1–5)"),
                csat,
                "score",
                url=scope.drill("surveys", kind=Survey.Kind.CSAT),
            ),
            Kpi("nps", _("NPS"), nps, "score", url=scope.drill("surveys", kind=Survey.Kind.NPS)),
        ],
        charts=[volume, response, resolution, breaches, _backlog(scope), satisfaction],
    )


def _created_counts(
    scope: Scope, dimension: str
) -> tuple[dict[datetime.date | None, int], dict[Any, tuple[int, int]]]:
    """The tickets created in the period per day, and per group with how many breached: one
    pass over them (the created-at index covers the columns) for the volume and breach charts."""
    bucket, day_of = day_buckets("created_at", list(scope.days()))
    rows = (
        created(scope, {})
        .annotate(day=bucket)
        .values_list("day", GROUP_FIELDS[dimension])
        .annotate(total=Count("*"), breached=count_where(BREACHED))
        .order_by()
    )
    by_day_total: dict[datetime.date | None, int] = defaultdict(int)
    by_group: dict[Any, tuple[int, int]] = {}
    for number, group, total, breached in rows:
        by_day_total[day_of(number)] += total
        old = by_group.get(group, (0, 0))
        by_group[group] = (old[0] + total, old[1] + breached)
    return by_day_total, by_group


def _volume(scope: Scope, opened: dict[datetime.date | None, int]) -> tuple[Chart, int, int]:
    days = list(scope.days())
    bucket, day_of = day_buckets("closed_at", days)
    shut = {
        day_of(number): total
        for number, total in closed(scope, {})
        .annotate(day=bucket)
        .values_list("day")
        .annotate(total=Count("*"))
        .order_by()
    }
    keys = [day.isoformat() for day in days]
    chart = Chart(
        key="volume",
        title=_("Tickets created and closed per day"),
        kind="line",
        categories=keys,
        category_label=_("Day"),
        series=[
            Series(
                _("Created"),
                [
                    Point(opened.get(day, 0), scope.drill("tickets", day=key))
                    for day, key in zip(days, keys, strict=True)
                ],
            ),
            Series(
                _("Closed"),
                [
                    Point(shut.get(day, 0), scope.drill("tickets_closed", day=key))
                    for day, key in zip(days, keys, strict=True)
                ],
            ),
        ],
    )
    return chart, sum(opened.values()), sum(shut.values())


def _group_labels(dimension: str) -> dict[Any, str]:
    if dimension == "priority":
        return {value: str(caption) for value, caption in Priority.choices}
    if dimension == "category":
        return names(TicketCategory.objects.select_related("parent"))
    if dimension == "department":
        return names(Team.objects.all())
    return names(User.objects.all())


def _ordered_groups(dimension: str, groups: set[Any], labels: dict[Any, str]) -> list[Any]:
    if dimension == "priority":
        return [value for value in Priority.values if value in groups]
    return sorted(groups, key=lambda group: label(labels, group, NONE))


def _times(scope: Scope, dimension: str) -> tuple[Chart, Chart, float | None]:
    """First response and resolution times by group (one query for both), and the overall
    median first response."""
    records = created(scope, {})
    by_group = percentiles(
        records, ["response_minutes", "resolution_minutes"], GROUP_FIELDS[dimension], (0.5, 0.9)
    )
    overall = percentiles(records, ["response_minutes"], None, (0.5,))["response_minutes"]
    labels = _group_labels(dimension)
    return (
        _times_chart(scope, dimension, "response", by_group["response_minutes"], labels),
        _times_chart(scope, dimension, "resolution", by_group["resolution_minutes"], labels),
        hours(overall.get(None, [None])[0]),
    )


def _times_chart(
    scope: Scope,
    dimension: str,
    measure: str,
    by_group: dict[Any, list[float | None]],
    labels: dict[Any, str],
) -> Chart:
    groups = _ordered_groups(dimension, set(by_group), labels)

    def url(group: Any) -> str:
        return scope.drill("tickets", measured=measure, **{dimension: group or "none"})

    title = (
        _("First response time by %(dimension)s")
        if measure == "response"
        else _("Resolution time by %(dimension)s")
    ) % {"dimension": dict(DIMENSIONS)[dimension]}
    return Chart(
        key=measure,
        title=title,
        kind="hbar",
        unit="hours",
        categories=[label(labels, group, NONE) for group in groups],
        category_label=dict(DIMENSIONS)[dimension],
        series=[
            Series(_("Median"), [Point(hours(by_group[group][0]), url(group)) for group in groups]),
            Series(
                _("90th percentile"),
                [Point(hours(by_group[group][1]), url(group)) for group in groups],
            ),
        ],
        note=_("Tickets created in the period, in working hours of the company calendar."),
    )


def _breaches(
    scope: Scope, dimension: str, by_group: dict[Any, tuple[int, int]]
) -> tuple[Chart, float | None]:
    labels = _group_labels(dimension)
    groups = _ordered_groups(dimension, set(by_group), labels)
    chart = Chart(
        key="breaches",
        title=_("SLA breaches by %(dimension)s") % {"dimension": dict(DIMENSIONS)[dimension]},
        kind="bar",
        categories=[label(labels, group, NONE) for group in groups],
        category_label=dict(DIMENSIONS)[dimension],
        series=[
            Series(
                _("Tickets"),
                [
                    Point(by_group[g][0], scope.drill("tickets", **{dimension: g or "none"}))
                    for g in groups
                ],
            ),
            Series(
                _("Breached"),
                [
                    Point(
                        by_group[g][1],
                        scope.drill("tickets", breached=1, **{dimension: g or "none"}),
                    )
                    for g in groups
                ],
            ),
            Series(
                _("Breach rate (%)"),
                [Point(rate(by_group[g][1], by_group[g][0])) for g in groups],
                unit="percent",
            ),
        ],
        note=_("Tickets created in the period that missed their response or resolution deadline."),
    )
    total = sum(total for total, _breached in by_group.values())
    return chart, rate(sum(breached for _total, breached in by_group.values()), total)


def _backlog(scope: Scope) -> Chart:
    rows = (
        backlog(scope, {})
        .annotate(age=_age_bucket(timezone.now()))
        .values_list("age", "priority")
        .annotate(total=Count("*"))
        .order_by()
    )
    counts = {(age, priority): total for age, priority, total in rows}
    return Chart(
        key="backlog",
        title=_("Age of the open backlog"),
        kind="stacked",
        categories=[str(caption) for _key, caption, *_rest in AGES],
        category_label=_("Open for"),
        series=[
            Series(
                str(caption),
                [
                    Point(
                        counts.get((key, priority), 0),
                        scope.drill("backlog", age=key, priority=priority),
                    )
                    for key, *_rest in AGES
                ],
            )
            for priority, caption in Priority.choices
        ],
        note=_("Open tickets now, whatever the period chosen."),
    )


def _satisfaction(scope: Scope) -> tuple[Chart, float | None, float | None]:
    bucket, key_of = month_buckets("answered_at", scope.months())
    rows = (
        surveys(scope, {})
        .annotate(month=bucket)
        .values_list("month")
        .annotate(
            csat=Avg("score", filter=Q(kind=Survey.Kind.CSAT)),
            csat_count=Count("pk", filter=Q(kind=Survey.Kind.CSAT)),
            promoters=Count("pk", filter=Q(kind=Survey.Kind.NPS, score__gte=9)),
            detractors=Count("pk", filter=Q(kind=Survey.Kind.NPS, score__lte=6)),
            nps_count=Count("pk", filter=Q(kind=Survey.Kind.NPS)),
        )
        .order_by()
    )
    by_key: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0, 0])
    for month, csat, csat_count, promoters, detractors, nps_count in rows:
        values = by_key[key_of(month)]
        values[0] += (csat or 0) * csat_count
        values[1] += csat_count
        values[2] += promoters
        values[3] += detractors
        values[4] += nps_count
    keys = [month_key(month) for month in scope.months()]

    def csat_of(values: list[float]) -> float | None:
        return round(values[0] / values[1], 2) if values[1] else None

    def nps_of(values: list[float]) -> float | None:
        return round((values[2] - values[3]) * 100 / values[4], 1) if values[4] else None

    chart = Chart(
        key="satisfaction",
        title=_("Satisfaction and recommendation per month"),
        kind="line",
        unit="score",
        categories=keys,
        category_label=_("Month"),
        series=[
            Series(
                _("CSAT (1–5)"),
                [
                    Point(
                        csat_of(by_key[k]), scope.drill("surveys", month=k, kind=Survey.Kind.CSAT)
                    )
                    for k in keys
                ],
            ),
            Series(
                _("NPS"),
                [
                    Point(nps_of(by_key[k]), scope.drill("surveys", month=k, kind=Survey.Kind.NPS))
                    for k in keys
                ],
                unit="percent",
            ),
        ],
        note=_("NPS: the share of promoters (9–10) less the share of detractors (0–6)."),
    )
    total = [0.0, 0, 0, 0, 0]
    for values in by_key.values():
        total = [a + b for a, b in zip(total, values, strict=True)]
    return chart, csat_of(total), nps_of(total)


# --- registration -----------------------------------------------------------------------------


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


TICKET_COLUMNS = [
    Column(gettext_lazy("Number"), lambda t: t.number),
    Column(gettext_lazy("Subject"), lambda t: t.subject),
    Column(gettext_lazy("Contact"), lambda t: t.contact_name),
    Column(gettext_lazy("Priority"), lambda t: t.get_priority_display()),
    Column(gettext_lazy("Status"), lambda t: t.get_status_display()),
    Column(gettext_lazy("Agent"), lambda t: str(t.assignee or "")),
    Column(gettext_lazy("First response (h)"), lambda t: hours(t.response_minutes), "hours"),
    Column(gettext_lazy("Resolution (h)"), lambda t: hours(t.resolution_minutes), "hours"),
    Column(gettext_lazy("Created"), lambda t: _local(t.created_at)),
]


def _ticket_rows(records: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return records.select_related("assignee").order_by("-created_at", "-pk")


for dataset in (
    Dataset(
        "tickets",
        gettext_lazy("Tickets created"),
        "service",
        lambda scope, params: _ticket_rows(created(scope, params)),
        TICKET_COLUMNS,
        contact_data=True,
    ),
    Dataset(
        "tickets_closed",
        gettext_lazy("Tickets closed"),
        "service",
        lambda scope, params: _ticket_rows(closed(scope, params)),
        TICKET_COLUMNS,
        contact_data=True,
    ),
    Dataset(
        "backlog",
        gettext_lazy("Open tickets"),
        "service",
        lambda scope, params: _ticket_rows(backlog(scope, params)),
        TICKET_COLUMNS,
        contact_data=True,
    ),
    Dataset(
        "surveys",
        gettext_lazy("Survey answers"),
        "service",
        lambda scope, params: (
            surveys(scope, params)
            .select_related("ticket", "customer", "agent")
            .order_by("-answered_at", "-pk")
        ),
        [
            Column(gettext_lazy("Kind"), lambda s: s.get_kind_display()),
            Column(gettext_lazy("Score"), lambda s: s.score, "score"),
            Column(gettext_lazy("Comment"), lambda s: s.comment),
            Column(gettext_lazy("Ticket"), lambda s: s.ticket.number if s.ticket else ""),
            Column(gettext_lazy("Customer"), lambda s: s.customer.name if s.customer else ""),
            Column(gettext_lazy("Agent"), lambda s: str(s.agent or "")),
            Column(gettext_lazy("Answered at"), lambda s: _local(s.answered_at)),
        ],
        link=lambda s: (
            s.ticket.get_absolute_url()
            if s.ticket
            else s.customer.get_absolute_url()
            if s.customer
            else ""
        ),
    ),
):
    datasets.register(dataset)

register(
    Dashboard(
        key="service",
        title=gettext_lazy("Service"),
        icon="bi-headset",
        order=30,
        roles=SERVICE_ROLES,
        build=build,
        dimensions=DIMENSIONS,
        default_period="30d",
        metrics=[
            ("volume", gettext_lazy("Tickets created and closed per day")),
            ("response", gettext_lazy("First response time")),
            ("resolution", gettext_lazy("Resolution time")),
            ("breaches", gettext_lazy("SLA breaches")),
            ("backlog", gettext_lazy("Age of the open backlog")),
            ("satisfaction", gettext_lazy("Satisfaction and recommendation per month")),
        ],
        description=gettext_lazy(
            "Volume, response and resolution times, SLA, backlog, CSAT and NPS."
        ),
    )
)
