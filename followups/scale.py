"""Scale data set and benchmark of follow-ups (crm.core.scale).

Per 100,000 customers about 600,000 records over the customers' lives (more for intention and won
customers), a done task behind most records, an open next task for a third of the followed
customers (a tenth of those overdue), a few cancelled, and plans with their upcoming tasks: about a
million rows. Reminders already sent are marked as sent, so the sweeps meet the backlog a live
system has (about a thousand due), not a year of them at once.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from crm.core import scale
from customers.models import Customer
from followups import reminders, services
from followups.models import (
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Stage,
)

TOPICS = [
    "初次电话沟通",
    "产品介绍",
    "需求调研",
    "方案讲解",
    "报价沟通",
    "商务谈判",
    "回访",
    "售后跟进",
]
SUMMARIES = [
    "客户对产品功能感兴趣，希望进一步了解价格。",
    "与采购经理确认了需求范围和预算。",
    "演示了核心功能，客户提出了几点定制需求。",
    "客户正在比较多家供应商，需要尽快提供方案。",
    "客户反馈使用顺利，暂无新的需求。",
]
NEXT_STEPS = ["发送报价单", "安排上门拜访", "提供技术方案", "电话回访", "邀请参加产品演示"]
RECORDS_BY_TYPE = {
    Customer.Type.POTENTIAL: 3,
    Customer.Type.INTENTION: 8,
    Customer.Type.WON: 12,
    Customer.Type.LOST: 5,
}
TASK_COLUMNS = [
    "id", "customer_id", "plan_id", "owner_id", "kind", "title", "due_at", "method_id",
    "content", "status", "completed_at", "remind_at", "reminded_at", "overdue_notified_at",
    "escalated_at", "created_at",
]  # fmt: skip
RECORD_COLUMNS = [
    "customer_id", "task_id", "owner_id", "occurred_at", "method_id", "our_participants",
    "their_participants", "topic", "summary", "feedback", "next_step", "next_step_at",
    "created_at",
]  # fmt: skip
PLAN_COLUMNS = [
    "id", "customer_id", "owner_id", "stage", "cadence", "interval_days", "content_points",
    "method_id", "template_id", "reminder_minutes", "starts_on", "ends_on", "time_of_day",
    "is_active", "created_by_id", "created_at",
]  # fmt: skip


def _foreign_follow_ups() -> bool:
    marker = scale.CUSTOMER_NUMBER_PREFIX
    return (
        FollowUpTask.objects.exclude(customer__number__startswith=marker).exists()
        or FollowUpRecord.objects.exclude(customer__number__startswith=marker).exists()
    )


def _clear_follow_ups() -> None:
    generated = "SELECT id FROM customers_customer WHERE number LIKE %s"
    marker = [scale.CUSTOMER_NUMBER_PREFIX + "%"]
    tasks = f"SELECT id FROM followups_followuptask WHERE customer_id IN ({generated})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM followups_tasktransfer WHERE task_id IN ({tasks})", marker)  # noqa: S608
        records = f"SELECT id FROM followups_followuprecord WHERE customer_id IN ({generated})"  # noqa: S608
        cursor.execute(f"DELETE FROM followups_commitment WHERE record_id IN ({records})", marker)  # noqa: S608
        for table in (
            "followups_followuprecord",
            "followups_followuptask",
            "followups_followupplan",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE customer_id IN ({generated})", marker)  # noqa: S608


@scale.step(
    40, "follow-up plans, tasks and records", clear=_clear_follow_ups, foreign=_foreign_follow_ups
)
def seed_follow_ups(context: scale.ScaleContext) -> None:
    rng = context.random
    now = context.now
    methods = list(FollowUpMethod.objects.order_by("pk").values_list("pk", flat=True))
    owners: dict[int, int | None] = context.shared["customer_owners"]
    created_at: dict[int, datetime.datetime] = context.shared["customer_created"]
    customers = list(
        Customer.objects.filter(pk__in=list(owners))
        .values_list("pk", "type", "status")
        .order_by("pk")
    )
    reps: list[int] = context.shared["reps"]
    plan_ids = scale.reserve_ids(FollowUpPlan, context.scaled(5_000))
    plans = iter(plan_ids)
    task_rows: list[list[Any]] = []
    record_rows: list[list[Any]] = []
    plan_rows: list[list[Any]] = []
    day = datetime.timedelta(days=1)

    def add_task(
        customer: int, owner: int, due: datetime.datetime, status: str, **extra: Any
    ) -> int:
        remind = due - datetime.timedelta(minutes=60)
        overdue = status == FollowUpTask.Status.PENDING and due < now
        task_rows.append([
            None, customer, extra.get("plan"), owner, extra.get("kind", FollowUpTask.Kind.MANUAL),
            extra.get("title") or rng.choice(NEXT_STEPS), due, rng.choice(methods), "", status,
            due if status == FollowUpTask.Status.DONE else None, remind,
            remind if remind < now - datetime.timedelta(hours=12) else None,
            due if overdue and due < now - day else None,
            due if overdue and due < now - 3 * day else None,
            min(due, now) - day * 3,
        ])  # fmt: skip
        return len(task_rows) - 1

    for pk, type_, status in customers:
        owner = owners[pk] or rng.choice(reps)
        first = created_at[pk]
        span = max((now - first).total_seconds(), 3600.0)
        count = rng.randint(0, 2 * RECORDS_BY_TYPE.get(type_, 3))
        moments = sorted(
            first + datetime.timedelta(seconds=rng.random() * span) for _ in range(count)
        )
        for moment in moments:
            task = (
                add_task(pk, owner, moment, FollowUpTask.Status.DONE)
                if rng.random() < 0.6
                else None
            )
            record_rows.append([
                pk, task, owner, moment, rng.choice(methods), "", "",
                rng.choice(TOPICS), rng.choice(SUMMARIES), "", rng.choice(NEXT_STEPS),
                moment + datetime.timedelta(days=rng.randrange(3, 30)), moment,
            ])  # fmt: skip
            if rng.random() < 0.03:
                add_task(pk, owner, moment + day * 7, FollowUpTask.Status.CANCELLED)
        if status == Customer.Status.FOLLOWING and owners[pk] and rng.random() < 0.3:
            # The next contact: a tenth of them overdue by up to a week.
            due = now + datetime.timedelta(minutes=rng.randrange(-7 * 1440, 60 * 1440))
            add_task(pk, owner, due, FollowUpTask.Status.PENDING)
        if type_ == Customer.Type.INTENTION and owners[pk] and rng.random() < 0.2:
            plan = next(plans, None)
            if plan is None:
                continue
            starts = (now - day * rng.randrange(0, 60)).date()
            plan_rows.append([
                plan, pk, owner, Stage.NEEDS_CONFIRMATION, FollowUpPlan.Cadence.WEEKLY, None,
                "了解需求进展", rng.choice(methods), None, 60, starts, None,
                datetime.time(10, 0), True, owner, now - day * 60,
            ])  # fmt: skip
            due = timezone.make_aware(datetime.datetime.combine(starts, datetime.time(10, 0)))
            while due < now - day * 7:
                due += day * 7
            for _week in range(4):
                add_task(
                    pk,
                    owner,
                    due,
                    FollowUpTask.Status.PENDING,
                    plan=plan,
                    kind=FollowUpTask.Kind.PLAN,
                    title="了解需求进展",
                )
                due += day * 7
    task_ids = scale.reserve_ids(FollowUpTask, len(task_rows))
    for row, pk in zip(task_rows, task_ids, strict=True):
        row[0] = pk
    for row in record_rows:
        if row[1] is not None:
            row[1] = task_ids[row[1]]
    scale.copy_rows(FollowUpPlan, PLAN_COLUMNS, plan_rows)
    scale.copy_rows(FollowUpTask, TASK_COLUMNS, task_rows)
    scale.copy_rows(FollowUpRecord, RECORD_COLUMNS, record_rows)
    scale.analyze(FollowUpPlan, FollowUpTask, FollowUpRecord)
    context.log(f"{len(plan_rows)} plans, {len(task_rows)} tasks, {len(record_rows)} records")


# --- the benchmark --------------------------------------------------------------------------------

WORKERS = ("rep", "manager")
scale.page("my work (home)", "home", url=lambda bench, role: reverse("home"))
scale.page(
    "follow-up tasks", "list", roles=WORKERS, url=lambda bench, role: reverse("followups:list")
)
scale.page(
    "follow-up team view",
    "list",
    roles=("manager",),
    url=lambda bench, role: reverse("followups:team"),
)
scale.page("calendar", "list", roles=WORKERS, url=lambda bench, role: reverse("followups:calendar"))
scale.page(
    "calendar: week",
    "list",
    roles=WORKERS,
    url=lambda bench, role: reverse("followups:calendar") + "?view=week",
)
scale.page(
    "calendar: day",
    "list",
    roles=WORKERS,
    url=lambda bench, role: reverse("followups:calendar") + "?view=day",
)

for _name, _sweep in [
    ("reminders: before tasks", reminders.remind_before_tasks),
    ("reminders: overdue tasks", reminders.remind_overdue_tasks),
    ("reminders: no contact", reminders.warn_no_contact),
    ("reminders: birthdays", reminders.remind_birthdays),
    ("reminders: contract expiry", reminders.remind_contract_expiry),
    ("maintenance tasks", reminders.create_maintenance_tasks),
    ("plans extend", services.plans_extend),
]:
    scale.job(_name, "sweep", run=lambda bench, sweep=_sweep: sweep(now=timezone.now()))


# The issue's case for a reminder sweep: a thousand due (per 100,000 customers). The data set
# holds a day's overdue tasks unannounced, a few thousand; this job leaves the newest thousand.
ISSUE_DUE = 1_000


def _thousand_overdue(bench: scale.BenchContext) -> int:
    """Of the tasks the overdue sweep would remind about, the 1,000 (per 100,000 customers) due
    last stay so; the older ones count as announced and escalated, which takes them out of its
    scan. Runs inside the benchmark's rolled-back transaction; returns the number left due."""
    now = timezone.now()
    customers = Customer.objects.filter(number__startswith=scale.CUSTOMER_NUMBER_PREFIX).count()
    kept = max(1, round(ISSUE_DUE * customers / scale.BASE_CUSTOMERS))
    due = FollowUpTask.objects.filter(
        status=FollowUpTask.Status.PENDING, escalated_at__isnull=True, due_at__lt=now
    ).filter(Q(overdue_notified_at__isnull=True) | Q(due_at__lte=now - reminders.escalate_after()))
    older = due.order_by("-due_at", "-pk").values("pk")[kept:]
    FollowUpTask.objects.filter(pk__in=older).update(
        overdue_notified_at=Coalesce("overdue_notified_at", F("due_at")), escalated_at=now
    )
    return due.count()


scale.job(
    "reminders: overdue tasks, 1,000 due",
    "sweep",
    setup=_thousand_overdue,
    run=lambda bench: reminders.remind_overdue_tasks(now=timezone.now()),
)
