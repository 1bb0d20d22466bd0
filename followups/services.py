"""Follow-up use cases: plans that generate tasks, records that complete them, transfers."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Level, Role
from crm.core.attachments import attachment_add
from crm.notifications.services import notify
from customers.models import Customer
from followups.models import (
    Commitment,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Stage,
    TaskTransfer,
)

# Plans generate this far ahead; the beat job ``plans_extend`` moves the horizon forward.
HORIZON = datetime.timedelta(days=30)
COMMITMENT_REMINDER = datetime.timedelta(hours=1)


def day_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The start of ``now``'s local day and of the next one: "due today" is before the second."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def company_time_zone() -> datetime.tzinfo:
    from crm.core.models import CompanySettings

    try:
        return zoneinfo.ZoneInfo(CompanySettings.load().time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def can_manage_for(owner: User, user: User) -> bool:
    """The owner themself, a manager whose team reach covers the owner, or an admin."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.pk == owner.pk or user.is_superuser or Role.ADMIN in user.roles:
        return True
    visibility = user.visibility
    return visibility.level in (Level.TEAM, Level.DEPARTMENT) and (
        owner.team_id is not None and owner.team_id in visibility.team_ids
    )


def is_manager(user: User) -> bool:
    return user.is_superuser or user.visibility.level in (Level.TEAM, Level.DEPARTMENT, Level.ALL)


# --- plans -------------------------------------------------------------------------------------


def plan_slots(
    plan: FollowUpPlan,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    tz: datetime.tzinfo | None = None,
) -> list[datetime.datetime]:
    """The plan's due times in [start, end): every ``step`` days from ``starts_on`` at
    ``time_of_day`` in the company time zone (date arithmetic, so a DST change keeps the hour),
    never after ``ends_on``. ``tz``: the company time zone, when the caller has it already."""
    step = plan.step
    if step is None:
        return []
    tz = tz or company_time_zone()
    last_day = plan.ends_on or (end.astimezone(tz).date() + datetime.timedelta(days=1))
    day = plan.starts_on
    start_day = start.astimezone(tz).date()
    if day < start_day:
        # Skip whole steps before the window instead of walking from a start long ago.
        skipped = (start_day - day).days // step.days
        day += datetime.timedelta(days=skipped * step.days)
    slots = []
    while day <= last_day:
        due = datetime.datetime.combine(day, plan.time_of_day, tzinfo=tz)
        if due >= end:
            break
        if due >= start:
            slots.append(due)
        day += step
    return slots


def _plan_task_fields(plan: FollowUpPlan) -> dict[str, Any]:
    """What every task a plan generates has in common."""
    content = "\n\n".join(
        part
        for part in [plan.template.content if plan.template else "", plan.content_points]
        if part
    )
    return {
        "customer_id": plan.customer_id,
        "owner_id": plan.owner_id,
        "kind": FollowUpTask.Kind.PLAN,
        # The label straight from the choices: get_stage_display() rebuilds their dict each call.
        "title": _("Follow up: %(stage)s") % {"stage": Stage(plan.stage).label},
        "method_id": plan.method_id or (plan.template.method_id if plan.template else None),
        "content": content,
    }


def plan_generate(
    *,
    plan: FollowUpPlan,
    now: datetime.datetime | None = None,
) -> int:
    """Brings the plan's pending tasks in line with its cadence up to the horizon: future
    pending tasks off the cadence are cancelled, missing slots created (a cancelled task on a
    slot comes back). Idempotent; the unique (plan, due_at) constraint backs it against a
    concurrent run. Returns the number of tasks created or revived."""
    now = now or timezone.now()
    if not plan.is_active:
        return 0
    future = FollowUpTask.objects.filter(plan=plan, due_at__gte=now).values_list(
        "id", "due_at", "status"
    )
    missing, revived = _plan_realign(plan, now, list(future), company_time_zone())
    FollowUpTask.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing) + revived


# A future task of a plan, as the realignment reads it: (id, due_at, status).
FutureTask = tuple[int, datetime.datetime, str]


def _plan_realign(
    plan: FollowUpPlan,
    now: datetime.datetime,
    future_tasks: list[FutureTask],
    tz: datetime.tzinfo,
) -> tuple[list[FollowUpTask], int]:
    """Cancels the plan's future tasks off its cadence and revives cancelled ones on it; returns
    the tasks of the slots still missing, unsaved, and how many it revived."""
    slots = set(plan_slots(plan, start=now, end=now + HORIZON, tz=tz))
    existing = {due: (pk, status) for pk, due, status in future_tasks}
    stale = [
        pk
        for due, (pk, status) in existing.items()
        if due not in slots and status == FollowUpTask.Status.PENDING
    ]
    if stale:
        FollowUpTask.objects.filter(pk__in=stale).update(status=FollowUpTask.Status.CANCELLED)
    revived = [
        pk
        for due, (pk, status) in existing.items()
        if due in slots and status == FollowUpTask.Status.CANCELLED
    ]
    if revived:
        FollowUpTask.objects.filter(pk__in=revived).update(status=FollowUpTask.Status.PENDING)
    missing = sorted(slots - existing.keys())
    if not missing:
        return [], len(revived)
    fields = _plan_task_fields(plan)
    tasks = [
        FollowUpTask(plan=plan, due_at=due, remind_at=plan.remind_at(due), **fields)
        for due in missing
    ]
    return tasks, len(revived)


def _check_plan_owner(owner: User, by: User) -> None:
    if not can_manage_for(owner, by):
        raise PermissionDenied(_("You may plan only for yourself or your team."))


@transaction.atomic
def plan_create(*, customer: Customer, owner: User, by: User, **fields: Any) -> FollowUpPlan:
    _check_plan_owner(owner, by)
    plan = FollowUpPlan(customer=customer, owner=owner, created_by=by, **fields)
    plan.full_clean()
    plan.save()
    plan_generate(plan=plan)
    return plan


@transaction.atomic
def plan_update(*, plan: FollowUpPlan, by: User, **fields: Any) -> FollowUpPlan:
    """Changes the plan and realigns its upcoming tasks; a pause keeps the pending ones."""
    _check_plan_owner(plan.owner, by)
    if "owner" in fields:
        _check_plan_owner(fields["owner"], by)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.full_clean()
    plan.save()
    if plan.is_active:
        if "owner" in fields:
            plan.tasks.pending().filter(due_at__gte=timezone.now()).update(owner=plan.owner)
        plan_generate(plan=plan)
    return plan


@transaction.atomic
def plan_pause(*, plan: FollowUpPlan, by: User) -> FollowUpPlan:
    """Stops generation; tasks already pending stay."""
    _check_plan_owner(plan.owner, by)
    plan.is_active = False
    plan.save(update_fields=["is_active"])
    return plan


PLANS_PER_BATCH = 500


def plans_extend(*, now: datetime.datetime) -> int:
    """The beat job's body: moves every active plan's horizon forward. Safe to run twice."""
    plans = FollowUpPlan.objects.active().filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=now.date() - datetime.timedelta(days=1))
    )
    created = 0
    batch: list[FollowUpPlan] = []
    for plan in plans.select_related("template").iterator(chunk_size=PLANS_PER_BATCH):
        batch.append(plan)
        if len(batch) == PLANS_PER_BATCH:
            created += _plans_extend_batch(batch, now=now)
            batch = []
    return created + _plans_extend_batch(batch, now=now)


@transaction.atomic
def _plans_extend_batch(plans: list[FollowUpPlan], *, now: datetime.datetime) -> int:
    """One query reads the future tasks of a batch of plans and one insert writes the batch's
    new tasks: a plan already up to date costs no query at all (thousands of plans a night),
    and the rollup trigger on tasks runs once a batch, not once a plan."""
    if not plans:
        return 0
    tz = company_time_zone()
    future: dict[int, list[FutureTask]] = {plan.pk: [] for plan in plans}
    tasks = FollowUpTask.objects.filter(plan__in=plans, due_at__gte=now).values_list(
        "plan_id", "id", "due_at", "status"
    )
    for plan_id, pk, due_at, status in tasks:
        future[plan_id].append((pk, due_at, status))
    missing: list[FollowUpTask] = []
    revived = 0
    for plan in plans:
        plan_missing, plan_revived = _plan_realign(plan, now, future[plan.pk], tz)
        missing += plan_missing
        revived += plan_revived
    FollowUpTask.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing) + revived


# --- tasks -------------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    customer: Customer,
    owner: User,
    by: User,
    title: str,
    due_at: datetime.datetime,
    kind: str = FollowUpTask.Kind.MANUAL,
    reminder_minutes: int = 60,
    **fields: Any,
) -> FollowUpTask:
    if by != owner and not can_manage_for(owner, by):
        raise PermissionDenied(_("You may add tasks only for yourself or your team."))
    return FollowUpTask.objects.create(
        customer=customer,
        owner=owner,
        kind=kind,
        title=title,
        due_at=due_at,
        remind_at=due_at - datetime.timedelta(minutes=reminder_minutes),
        **fields,
    )


def _pending_locked(task: FollowUpTask) -> FollowUpTask:
    locked = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if locked.status != FollowUpTask.Status.PENDING:
        raise ValidationError(_("This task is already closed."))
    return locked


@transaction.atomic
def task_reschedule(*, task: FollowUpTask, due_at: datetime.datetime, by: User) -> FollowUpTask:
    """Moves a pending task; only its owner may. The reminder is due again at the new time."""
    if task.owner_id != by.pk:
        raise PermissionDenied(_("Only the task's owner may reschedule it."))
    locked = _pending_locked(task)
    offset = (locked.due_at - locked.remind_at) if locked.remind_at else datetime.timedelta(0)
    locked.due_at = due_at
    locked.remind_at = due_at - offset
    locked.reminded_at = None
    locked.overdue_notified_at = None
    locked.escalated_at = None
    try:
        with transaction.atomic():
            locked.save(
                update_fields=[
                    "due_at",
                    "remind_at",
                    "reminded_at",
                    "overdue_notified_at",
                    "escalated_at",
                ]
            )
    except IntegrityError as error:
        raise ValidationError(_("The plan already has a task at that time.")) from error
    return locked


@transaction.atomic
def task_cancel(*, task: FollowUpTask, by: User) -> FollowUpTask:
    if not can_manage_for(task.owner, by):
        raise PermissionDenied(_("Only the owner or their manager may cancel this task."))
    locked = _pending_locked(task)
    locked.status = FollowUpTask.Status.CANCELLED
    locked.save(update_fields=["status"])
    return locked


@transaction.atomic
def task_transfer(*, task: FollowUpTask, to_user: User, by: User, reason: str) -> FollowUpTask:
    """转交: by the owner or their manager, logged and notified to the new owner."""
    if not can_manage_for(task.owner, by):
        raise PermissionDenied(_("Only the owner or their manager may transfer this task."))
    if not to_user.is_active:
        raise ValidationError(_("The colleague's account is not active."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the transfer."))
    locked = _pending_locked(task)
    if locked.owner_id == to_user.pk:
        return locked
    TaskTransfer.objects.create(
        task=locked, from_user_id=locked.owner_id, to_user=to_user, by=by, reason=reason
    )
    locked.owner = to_user
    locked.reminded_at = None
    locked.save(update_fields=["owner", "reminded_at"])
    notify(
        [to_user],
        "followup_task_transferred",
        locked,
        actor=by,
        url=locked.get_absolute_url(),
        context={"task": locked, "reason": reason},
    )
    return locked


def tasks_transfer(*, tasks: Iterable[FollowUpTask], to_user: User, by: User, reason: str) -> int:
    """Bulk reassignment: each task on its own, all or nothing."""
    with transaction.atomic():
        count = 0
        for task in tasks:
            task_transfer(task=task, to_user=to_user, by=by, reason=reason)
            count += 1
    return count


# --- records -----------------------------------------------------------------------------------


def _schedule_next(plan: FollowUpPlan, after: datetime.datetime) -> FollowUpTask | None:
    """After a plan task is done: the plan has a pending task around ``after + step``."""
    step = plan.step
    if not plan.is_active or step is None:
        return None
    due = after + step
    if plan.ends_on and due.astimezone(company_time_zone()).date() > plan.ends_on:
        return None
    nearby = plan.tasks.pending().filter(due_at__gt=after, due_at__lte=due + step)
    if nearby.exists():
        return None
    defaults = {**_plan_task_fields(plan), "remind_at": plan.remind_at(due)}
    task, _created = FollowUpTask.objects.get_or_create(plan=plan, due_at=due, defaults=defaults)
    if task.status != FollowUpTask.Status.PENDING:
        return None
    return task


@transaction.atomic
def record_create(
    *,
    customer: Customer,
    by: User,
    task: FollowUpTask | None = None,
    commitments: Sequence[tuple[str, datetime.datetime]] = (),
    attachments: Sequence[UploadedFile] = (),
    **fields: Any,
) -> FollowUpRecord:
    """跟进记录: saves the record, completes the task it answers, turns each commitment into a
    task and makes sure the plan (if any) has its next task from the record's time."""
    if task is not None:
        if task.customer_id != customer.pk:
            raise ValidationError(_("The task belongs to another customer."))
        if not can_manage_for(task.owner, by):
            raise PermissionDenied(_("Only the owner or their manager may record this task."))
        task = _pending_locked(task)
    record = FollowUpRecord.objects.create(customer=customer, owner=by, task=task, **fields)
    for upload in attachments:
        attachment_add(target=record, upload=upload, by=by)
    for description, due_at in commitments:
        commitment_task = FollowUpTask.objects.create(
            customer=customer,
            owner=by,
            kind=FollowUpTask.Kind.COMMITMENT,
            title=description,
            due_at=due_at,
            method=record.method,
            content=_("Promised in the follow-up of %(date)s: %(topic)s")
            % {
                "date": timezone.localtime(record.occurred_at).strftime("%Y-%m-%d"),
                "topic": record.topic,
            },
            remind_at=due_at - COMMITMENT_REMINDER,
        )
        Commitment.objects.create(
            record=record, description=description, due_at=due_at, task=commitment_task
        )
    if task is not None:
        task.status = FollowUpTask.Status.DONE
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
        if task.plan_id is not None:
            plan = FollowUpPlan.objects.select_related("template").get(pk=task.plan_id)
            _schedule_next(plan, after=record.occurred_at)
    return record
