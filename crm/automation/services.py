"""Running delayed rules, watching failure rates, the health figures and the "try it" check."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from crm.accounts.roles import Role
from crm.automation import engine
from crm.automation.models import AutomationSettings, FailureAlert, Rule, RuleRun
from crm.core.models import DomainEvent
from crm.notifications.services import notify

# Delayed rules look back this far for events that came due (older ones are history).
DELAYED_LOOKBACK = datetime.timedelta(days=7)


def rules_run_delayed(*, now: datetime.datetime, limit: int = 1000) -> int:
    """Runs each delayed rule for the events of its trigger that came due and have no run yet.

    Idempotent through the run row: two sweeps at once, or one after a missed hour, run each
    rule once per event; a missed sweep is caught up by the next one within the look-back.
    """
    done = 0
    for rule in Rule.objects.filter(is_active=True, delay_hours__gt=0).prefetch_related(
        "conditions", "actions"
    ):
        due_before = now - datetime.timedelta(hours=rule.delay_hours)
        events = (
            DomainEvent.objects.filter(
                name=rule.trigger,
                created_at__lte=due_before,
                created_at__gte=max(due_before - DELAYED_LOOKBACK, rule.created_at),
            )
            .exclude(pk__in=RuleRun.objects.filter(rule=rule).values("event_id"))
            .select_related("content_type")
            .order_by("created_at")[:limit]
        )
        for event in events:
            record = engine._record(event)
            if record is not None and engine.run_rule(rule, event, record) is not None:
                done += 1
    return done


@dataclass(frozen=True)
class HealthRow:
    rule: Rule
    day: datetime.date
    triggers: int
    matches: int
    successes: int
    failures: int
    assignment_failures: int

    @property
    def failure_rate(self) -> Decimal:
        if not self.matches:
            return Decimal(0)
        return (Decimal(self.failures) * 100 / self.matches).quantize(Decimal("0.1"))


def health(*, since: datetime.datetime) -> list[HealthRow]:
    """Per rule and day: triggers, matches, successes and failures (one grouped query)."""
    rows = (
        RuleRun.objects.since(since)
        .annotate(day=TruncDate("created_at"))
        .values("rule_id", "day")
        .annotate(
            triggers=Count("id"),
            matches=Count("id", filter=Q(matched=True)),
            successes=Count("id", filter=Q(status=RuleRun.Status.SUCCESS)),
            failures=Count("id", filter=Q(status=RuleRun.Status.FAILED)),
            assignment_failures=Count("id", filter=Q(assignment_failed=True)),
        )
        .order_by("-day", "rule_id")
    )
    rules = Rule.objects.in_bulk([row["rule_id"] for row in rows])
    return [
        HealthRow(
            rule=rules[row["rule_id"]],
            day=row["day"],
            triggers=row["triggers"],
            matches=row["matches"],
            successes=row["successes"],
            failures=row["failures"],
            assignment_failures=row["assignment_failures"],
        )
        for row in rows
    ]


def failure_alerts_send(*, now: datetime.datetime) -> int:
    """Tells admins about each rule whose assignment failure rate over the last day passed the
    threshold, once per rule and day (the alert row is the claim)."""
    threshold = AutomationSettings.load().assignment_failure_threshold
    rows = (
        RuleRun.objects.since(now - datetime.timedelta(days=1))
        .filter(matched=True)
        .values("rule_id")
        .annotate(
            matches=Count("id"),
            failures=Count("id", filter=Q(assignment_failed=True)),
        )
        .filter(failures__gt=0)
    )
    admins = list(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN))
        .distinct()
    )
    sent = 0
    for row in rows:
        rate = Decimal(row["failures"]) * 100 / row["matches"]
        if rate <= threshold:
            continue
        rule = Rule.objects.get(pk=row["rule_id"])
        try:
            with transaction.atomic():
                FailureAlert.objects.create(
                    rule=rule, day=timezone.localdate(now), failure_rate=round(rate, 2)
                )
        except IntegrityError:
            continue  # already told today
        notify(
            admins,
            "automation_failure_rate",
            rule,
            url=f"/admin/automation/rule/{rule.pk}/change/",
            context={
                "rule": rule,
                "rate": round(rate, 1),
                "threshold": threshold,
                "failures": row["failures"],
                "matches": row["matches"],
            },
        )
        sent += 1
    return sent


def rule_try(*, rule: Rule, record: models.Model) -> engine.Outcome:
    """Whether the rule matches the record and what it would do, changing nothing."""
    with transaction.atomic():
        outcome = engine.evaluate(rule, record, None, dry_run=True)
        transaction.set_rollback(True)  # belt and braces: "try it" never writes
    return outcome
