"""Action plans (行动计划): agreed in review meetings, followed to done, reminded before they fall
due and once when they are overdue."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import ActionPlan, ActionPlanSettings
from crm.accounts.models import User
from crm.core.visibility import ensure_may_change
from crm.notifications.services import notify


def may_edit(plan: ActionPlan, user: User) -> bool:
    """Its owner and author, and whoever sees it by their team reach (its managers)."""
    if user.pk in (plan.owner_id, plan.created_by_id):
        return True
    visibility = user.visibility
    return not visibility.read_only and (
        user.is_superuser or bool(visibility.team_ids and plan.team_id in visibility.team_ids)
    )


@transaction.atomic
def action_plan_create(*, by: User, owner: User, **fields: Any) -> ActionPlan:
    ensure_may_change(by)
    plan = ActionPlan.objects.create(owner=owner, team=owner.team, created_by=by, **fields)
    _tell_new_owner(plan, by)
    return plan


@transaction.atomic
def action_plan_update(*, plan: ActionPlan, by: User, changes: dict[str, Any]) -> ActionPlan:
    if not may_edit(plan, by):
        raise PermissionDenied(_("You cannot change this action plan."))
    plan = ActionPlan.objects.select_for_update().get(pk=plan.pk)
    before = (plan.owner_id, plan.due_on)
    for name, value in changes.items():
        setattr(plan, name, value)
    if plan.due_on != before[1]:
        # A new due date earns a new reminder.
        plan.reminded_for = plan.overdue_notified_for = None
    if plan.owner_id != before[0]:
        plan.team = plan.owner.team  # the new owner's team lists it from now on
    plan.save()
    if plan.owner_id != before[0]:
        _tell_new_owner(plan, by)
    return plan


def _tell_new_owner(plan: ActionPlan, by: User) -> None:
    if plan.owner_id != by.pk:
        notify(
            [plan.owner],
            "action_plan_assigned",
            plan,
            actor=by,
            url=plan.get_absolute_url(),
            context={"plan": plan},
        )


@transaction.atomic
def action_plan_move(*, plan: ActionPlan, status: str, by: User, outcome: str = "") -> ActionPlan:
    if not may_edit(plan, by):
        raise PermissionDenied(_("You cannot change this action plan."))
    plan = ActionPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.can_move_to(status):
        raise ValidationError(
            _("An action plan cannot go from “%(from)s” to “%(to)s”."),
            params={"from": plan.get_status_display(), "to": ActionPlan.Status(status).label},
        )
    if status == ActionPlan.Status.DONE and not (outcome or plan.outcome).strip():
        raise ValidationError({"outcome": _("Say what was done before closing the item.")})
    plan.status = status
    if outcome:
        plan.outcome = outcome
    plan.completed_at = timezone.now() if status == ActionPlan.Status.DONE else None
    plan.save(update_fields=["status", "outcome", "completed_at"])
    return plan


def remind_action_plans(*, now: datetime.datetime) -> int:
    """Owners of open items due within the reminder window, once per due date; and once more
    when an item is overdue. The claim is a conditional UPDATE in the reminder's transaction:
    a second run, or a second worker, sends nothing twice."""
    today = timezone.localdate(now)
    horizon = today + datetime.timedelta(days=ActionPlanSettings.load().remind_days_before)
    sent = 0
    due_soon = (
        ActionPlan.objects.open()
        .filter(due_on__gte=today, due_on__lte=horizon)
        .exclude(reminded_for=F("due_on"))
    )
    for plan in due_soon.select_related("owner").order_by("pk").iterator(chunk_size=500):
        with transaction.atomic():
            claimed = (
                ActionPlan.objects.open()
                .filter(pk=plan.pk, due_on=plan.due_on)
                .exclude(reminded_for=plan.due_on)
                .update(reminded_for=plan.due_on)
            )
            if claimed:
                notify(
                    [plan.owner],
                    "action_plan_due",
                    plan,
                    url=plan.get_absolute_url(),
                    context={"plan": plan},
                )
                sent += 1
    overdue = ActionPlan.objects.overdue(today).exclude(overdue_notified_for=F("due_on"))
    for plan in (
        overdue.select_related("owner", "created_by").order_by("pk").iterator(chunk_size=500)
    ):
        with transaction.atomic():
            claimed = (
                ActionPlan.objects.overdue(today)
                .filter(pk=plan.pk, due_on=plan.due_on)
                .exclude(overdue_notified_for=plan.due_on)
                .update(overdue_notified_for=plan.due_on)
            )
            if claimed:
                notify(
                    [plan.owner, plan.created_by],
                    "action_plan_overdue",
                    plan,
                    url=plan.get_absolute_url(),
                    context={"plan": plan},
                )
                sent += 1
    return sent
