"""Demo follow-ups: plans with pending tasks on some owned demo customers, and a year of
follow-up records (methods, feedback, next steps) so that reports and timelines have history.

Repeatable: everything is drawn from ``random.Random(2026)`` over all owned customers in primary
key order, and a customer that already has a plan or a record is skipped, so running
``seed_demo`` twice creates nothing the second time. Rows are bulk-created.
"""

from __future__ import annotations

import datetime
import random

from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.core import demo
from customers.models import Customer
from followups.models import (
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Stage,
    TaskTemplate,
)

SEED = 2026
DAYS = 365

TOPICS = [
    ("需求沟通", "了解客户当前业务流程与痛点，确认采购意向和预算区间。"),
    ("产品演示", "演示核心功能，客户关注数据安全与移动端使用体验。"),
    ("方案讲解", "讲解实施方案与分阶段上线计划，客户提出集成现有 ERP 的问题。"),
    ("报价沟通", "说明报价构成与折扣政策，客户希望分期付款。"),
    ("商务洽谈", "与采购负责人确认合同条款，法务正在审阅。"),
    ("使用回访", "回访上线后使用情况，收集改进建议。"),
    ("节日问候", "节日问候并赠送礼品，顺带了解明年的预算规划。"),
]
FEEDBACK = [
    "对方案整体满意，希望再压缩一下实施周期。",
    "价格偏高，需要内部再讨论。",
    "决策人下周出差，回来后再约时间。",
    "认可产品功能，担心员工培训成本。",
    "希望提供同行业的成功案例。",
    "暂无明确需求，保持联系。",
    "",
]
NEXT_STEPS = [
    "发送详细方案与报价单",
    "预约上门拜访决策人",
    "安排技术团队做现场演示",
    "提供同行业案例资料",
    "跟进合同审批进度",
    "电话确认使用反馈",
]
OURS = ["销售代表", "销售代表、售前工程师", "销售经理、销售代表"]
THEIRS = ["采购经理", "信息部负责人", "总经理", "运营主管、财务"]
RECORDS_BY_TYPE = {
    Customer.Type.WON: (6, 14),
    Customer.Type.INTENTION: (3, 9),
    Customer.Type.POTENTIAL: (0, 4),
    Customer.Type.LOST: (1, 5),
}
PLAN_SHARE = 0.4


@demo.register(40, "follow-ups")
def seed_followups() -> None:
    methods = list(FollowUpMethod.objects.filter(is_active=True).order_by("sort_order", "pk"))
    if not methods:
        return  # the dictionaries migration has not run
    templates = list(TaskTemplate.objects.filter(is_active=True).order_by("pk"))
    customers = list(
        Customer.objects.filter(owner__isnull=False)
        .annotate(
            has_plan=Exists(FollowUpPlan.objects.filter(customer=OuterRef("pk"))),
            has_record=Exists(FollowUpRecord.objects.filter(customer=OuterRef("pk"))),
        )
        .order_by("pk")
    )
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate(now)
    at_ten = datetime.time(10, 0)
    plans: list[FollowUpPlan] = []
    tasks: list[tuple[int, FollowUpTask]] = []  # (index of the plan, task)
    records: list[FollowUpRecord] = []
    for customer in customers:
        # Drawn for every customer, seeded or not, so a rerun draws the same values for each.
        low, high = RECORDS_BY_TYPE.get(Customer.Type(customer.type), (0, 3))
        record_days = sorted(rng.sample(range(1, DAYS), rng.randint(low, high)), reverse=True)
        drawn = [
            (
                day,
                rng.randint(9, 17),
                rng.choice(methods),
                rng.choice(TOPICS),
                rng.choice(FEEDBACK),
                rng.choice(NEXT_STEPS),
                rng.choice(OURS),
                rng.choice(THEIRS),
            )
            for day in record_days
        ]
        wants_plan = customer.type != Customer.Type.LOST and rng.random() < PLAN_SHARE
        stage = rng.choice(Stage.values)
        cadence = rng.choice([FollowUpPlan.Cadence.WEEKLY, FollowUpPlan.Cadence.BIWEEKLY])
        template = rng.choice(templates) if templates else None
        first_due_in = rng.randint(-3, 6)  # a few already overdue
        owner_id = customer.owner_id
        if owner_id is None or customer.has_plan or customer.has_record:  # type: ignore[attr-defined]
            continue
        for day, hour, method, (topic, summary), feedback, next_step, ours, theirs in drawn:
            occurred = now - datetime.timedelta(days=day) + datetime.timedelta(hours=hour - 12)
            records.append(
                FollowUpRecord(
                    customer=customer,
                    owner_id=owner_id,
                    occurred_at=occurred,
                    method=method,
                    our_participants=ours,
                    their_participants=theirs,
                    topic=topic,
                    summary=summary,
                    feedback=feedback,
                    next_step=next_step,
                    next_step_at=occurred + datetime.timedelta(days=7),
                    created_at=occurred,
                )
            )
        if not wants_plan:
            continue
        plan = FollowUpPlan(
            customer=customer,
            owner_id=owner_id,
            stage=stage,
            cadence=cadence,
            content_points=template.content if template else "",
            method=template.method if template else methods[0],
            template=template,
            starts_on=today - datetime.timedelta(days=14),
            created_by_id=owner_id,
            created_at=now - datetime.timedelta(days=14),
        )
        plans.append(plan)
        step = 7 if cadence == FollowUpPlan.Cadence.WEEKLY else 14
        for number in range(2):
            due_day = today + datetime.timedelta(days=first_due_in + number * step)
            due_at = timezone.make_aware(datetime.datetime.combine(due_day, at_ten))
            tasks.append(
                (
                    len(plans) - 1,
                    FollowUpTask(
                        customer=customer,
                        owner_id=owner_id,
                        kind=FollowUpTask.Kind.PLAN,
                        title=f"跟进：{plan.get_stage_display()}",
                        due_at=due_at,
                        method=plan.method,
                        content=plan.content_points,
                        remind_at=plan.remind_at(due_at),
                        created_at=plan.created_at,
                    ),
                )
            )
    if plans:
        bulk_create_with_history(plans, FollowUpPlan, default_date=now)
        saved = list(
            FollowUpPlan.objects.filter(customer__in=[plan.customer for plan in plans]).order_by(
                "pk"
            )
        )
        by_customer = {plan.customer_id: plan for plan in saved}
        for index, task in tasks:
            task.plan = by_customer[plans[index].customer_id]
        bulk_create_with_history([task for _index, task in tasks], FollowUpTask, default_date=now)
    FollowUpRecord.objects.bulk_create(records, batch_size=1000)
