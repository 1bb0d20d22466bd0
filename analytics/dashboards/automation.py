"""自动化健康度: how often each rule was triggered and matched, how often it failed, and how often
its assignments found someone; for analysts and administrators."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import datasets
from analytics.charts import Board, Cell, Chart, Kpi, Point, Series, Table
from analytics.dashboards import COMPANY_ROLES, Dashboard, names, register
from analytics.datasets import Column, Dataset, by_id, choice, within
from analytics.scope import Scope
from analytics.stats import by_day, rate
from crm.automation import registry
from crm.automation.models import Action, Rule, RuleRun

STATUSES = {"matched", *RuleRun.Status.values}


def assignment_rules() -> QuerySet[Rule]:
    codes = [action.code for action in registry.actions() if action.is_assignment]
    return Rule.objects.filter(pk__in=Action.objects.filter(type__in=codes).values("rule_id"))


def runs(scope: Scope, params: Mapping[str, str]) -> QuerySet[RuleRun]:
    records = by_id(
        RuleRun.objects.filter(within(scope, params, "created_at")), params, "rule", "rule_id"
    )
    status = choice(params, "status", STATUSES)
    if status == "matched":
        records = records.filter(matched=True)
    elif status is not None:
        records = records.filter(status=status)
    if params.get("assignment") == "failed":
        records = records.filter(assignment_failed=True)
    elif params.get("assignment") == "tried":
        records = records.filter(matched=True, rule__in=assignment_rules())
    return records


def build(scope: Scope) -> Board:
    counts = {
        "n_matched": Count("pk", filter=Q(matched=True)),
        "n_succeeded": Count("pk", filter=Q(status=RuleRun.Status.SUCCESS)),
        "n_failed": Count("pk", filter=Q(status=RuleRun.Status.FAILED)),
        "n_assignment_failed": Count("pk", filter=Q(assignment_failed=True)),
        "n_assignment_tried": Count("pk", filter=Q(matched=True, rule__in=assignment_rules())),
    }
    per_rule = list(
        runs(scope, {}).values_list("rule_id").annotate(total=Count("*"), **counts).order_by()
    )
    per_day = {
        row[0]: row
        for row in runs(scope, {})
        .annotate(day=by_day("created_at"))
        .values_list("day")
        .annotate(total=Count("*"), **counts)
        .order_by()
    }
    rule_names = names(Rule.objects.all())
    per_rule.sort(key=lambda row: -row[1])
    rows = []
    for rule, total, matched, succeeded, failed, assignment_failed, tried in per_rule:
        rows.append(
            [
                Cell(rule_names.get(rule, str(rule))),
                Cell(total, scope.drill("rule_runs", rule=rule)),
                Cell(matched, scope.drill("rule_runs", rule=rule, status="matched")),
                Cell(succeeded, scope.drill("rule_runs", rule=rule, status="success")),
                Cell(failed, scope.drill("rule_runs", rule=rule, status="failed")),
                Cell(rate(failed, matched), unit="percent"),
                Cell(tried or None, scope.drill("rule_runs", rule=rule, assignment="tried")),
                Cell(rate(tried - assignment_failed, tried), unit="percent"),
            ]
        )
    rules_chart = Chart(
        key="rules",
        title=_("Runs by rule"),
        kind="hbar",
        categories=[row[0].value for row in rows],
        category_label=_("Rule"),
        series=[
            Series(_("Triggered"), [Point(row[1].value, row[1].url) for row in rows]),
            Series(_("Matched"), [Point(row[2].value, row[2].url) for row in rows]),
            Series(_("Failed"), [Point(row[4].value, row[4].url) for row in rows]),
        ],
        custom_table=Table(
            [
                _("Rule"),
                _("Triggered"),
                _("Matched"),
                _("Succeeded"),
                _("Failed"),
                _("Failure rate (%)"),
                _("Assignments tried"),
                _("Assignment success (%)"),
            ],
            rows,
        ),
    )
    days = list(scope.days())
    keys = [day.isoformat() for day in days]

    def daily(index: int, status: str = "") -> list[Point]:
        return [
            Point(
                per_day[day][index] if day in per_day else 0,
                scope.drill("rule_runs", day=key, **({"status": status} if status else {})),
            )
            for day, key in zip(days, keys, strict=True)
        ]

    days_chart = Chart(
        key="daily",
        title=_("Rule runs per day"),
        kind="line",
        categories=keys,
        category_label=_("Day"),
        series=[
            Series(_("Triggered"), daily(1)),
            Series(_("Matched"), daily(2, "matched")),
            Series(_("Failed"), daily(4, "failed")),
        ],
    )
    total = sum(row[1] for row in per_rule)
    matched = sum(row[2] for row in per_rule)
    failed = sum(row[4] for row in per_rule)
    tried = sum(row[6] for row in per_rule)
    assignment_failed = sum(row[5] for row in per_rule)
    return Board(
        kpis=[
            Kpi("runs", _("Rule runs"), total, url=scope.drill("rule_runs")),
            Kpi(
                "match_rate",
                _("Match rate"),
                rate(matched, total),
                "percent",
                url=scope.drill("rule_runs", status="matched"),
            ),
            Kpi("failures", _("Failures"), failed, url=scope.drill("rule_runs", status="failed")),
            Kpi(
                "assignment_success",
                _("Assignment success"),
                rate(tried - assignment_failed, tried),
                "percent",
                url=scope.drill("rule_runs", assignment="failed"),
                hint=_("Matched runs of assigning rules that found someone to assign."),
            ),
        ],
        charts=[days_chart, rules_chart],
    )


def _local(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _record(run: RuleRun) -> Any:
    return f"{run.content_type.name} #{run.object_id}"


datasets.register(
    Dataset(
        "rule_runs",
        gettext_lazy("Rule runs"),
        "automation",
        lambda scope, params: (
            runs(scope, params)
            .select_related("rule", "content_type")
            .order_by("-created_at", "-pk")
        ),
        [
            Column(gettext_lazy("Rule"), lambda run: run.rule.name),
            Column(gettext_lazy("Record"), _record),
            Column(gettext_lazy("Status"), lambda run: run.get_status_display()),
            Column(gettext_lazy("Error"), lambda run: run.error),
            Column(gettext_lazy("Duration (ms)"), lambda run: run.duration_ms),
            Column(gettext_lazy("Run at"), lambda run: _local(run.created_at)),
        ],
        link=lambda run: "",
    )
)

register(
    Dashboard(
        key="automation",
        title=gettext_lazy("Automation"),
        icon="bi-lightning-charge",
        order=40,
        roles=COMPANY_ROLES,
        build=build,
        default_period="30d",
        people=False,
        metrics=[
            ("daily", gettext_lazy("Rule runs per day")),
            ("rules", gettext_lazy("Runs by rule")),
        ],
        description=gettext_lazy("Rule triggers, matches, failures and assignment success."),
    )
)
