"""The engine: for each delivered event, the active rules of its trigger, in order."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction

from crm.automation import conditions, registry
from crm.automation.models import Rule, RuleRun
from crm.core.models import DomainEvent

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a rule did, or would do (``try it``), for one record."""

    matched: bool
    actions: list[str] = field(default_factory=list)
    error: str = ""
    assignment_failed: bool = False

    @property
    def status(self) -> str:
        if not self.matched:
            return RuleRun.Status.NOT_MATCHED
        return RuleRun.Status.FAILED if self.error else RuleRun.Status.SUCCESS


def _record(event: DomainEvent) -> models.Model | None:
    model = event.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=event.object_id).first()


def _applies_to(action_type: registry.ActionType, record: models.Model) -> bool:
    return not action_type.model or action_type.model == record._meta.label_lower


def evaluate(rule: Rule, record: models.Model, event: Any, *, dry_run: bool = False) -> Outcome:
    """Tests the rule on the record and, unless ``dry_run``, applies its actions in order.

    An action that fails stops the rule (its earlier actions stand) and is reported; with
    ``dry_run`` the actions only say what they would do and nothing is written.
    """
    changed = (getattr(event, "payload", None) or {}).get("changed", [])
    if not conditions.matches(rule.conditions.all(), record, changed):
        return Outcome(matched=False)
    outcome = Outcome(matched=True)
    context = registry.RunContext(event=event, rule=rule, dry_run=dry_run)
    for action in rule.actions.all():
        try:
            action_type = registry.action(action.type)
        except LookupError:
            outcome.error = f"unknown action {action.type}"
            break
        if not _applies_to(action_type, record):
            outcome.error = f"{action_type.code} does not apply to {record._meta.label_lower}"
            break
        try:
            if dry_run:
                outcome.actions.append(action_type.describe(record, action))
            else:
                with transaction.atomic():
                    outcome.actions.append(action_type.apply(record, action, context))
        except registry.ActionError as error:
            outcome.error = str(error)
        except Exception as error:  # a broken action must not lose the event or the other rules
            logger.exception("Action %s of rule %s failed", action.type, rule.pk)
            outcome.error = f"{type(error).__name__}: {error}"[:500]
        if outcome.error:
            outcome.assignment_failed = action_type.is_assignment
            if action_type.on_error is not None and not dry_run:
                action_type.on_error(record, outcome.error)
            break
    return outcome


def run_rule(rule: Rule, event: DomainEvent, record: models.Model) -> RuleRun | None:
    """Runs one rule for one event once: the run row is claimed first, so a redelivered or
    retried event finds it and does nothing again."""
    started = time.monotonic()
    try:
        with transaction.atomic():
            run = RuleRun.objects.create(
                rule=rule,
                event=event,
                content_type_id=event.content_type_id,
                object_id=event.object_id,
                status=RuleRun.Status.NOT_MATCHED,
            )
    except IntegrityError:
        return None  # already run for this event
    outcome = evaluate(rule, record, event)
    run.matched = outcome.matched
    run.status = outcome.status
    run.actions_taken = outcome.actions
    run.error = outcome.error
    run.assignment_failed = outcome.assignment_failed
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save(
        update_fields=[
            "matched",
            "status",
            "actions_taken",
            "error",
            "assignment_failed",
            "duration_ms",
        ]
    )
    return run


def handle_event(event: DomainEvent, *, delayed: bool = False) -> list[RuleRun]:
    """The engine's event handler: immediate rules at delivery; delayed ones from the sweep."""
    rules = [
        rule for rule in Rule.objects.active_for(event.name) if (rule.delay_hours > 0) == delayed
    ]
    if not rules:
        return []
    record = _record(event)
    if record is None:
        return []
    runs = []
    for rule in rules:
        run = run_rule(rule, event, record)
        if run is None:
            continue
        runs.append(run)
        if run.matched and rule.stop_after_match:
            break
        record.refresh_from_db()  # the next rule sees what this one changed
    return runs
