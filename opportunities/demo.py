"""Demo pipeline: a year of opportunities on the owned demo customers, through every stage, with
their stage history, objections and competitors; won ones with orders, payment plans and
receipts (some instalments overdue), some collected in full; lost ones with a reason.

Repeatable: everything is drawn from ``random.Random(2026)`` over all owned customers in primary
key order, and a customer that already has an opportunity is skipped, so running ``seed_demo``
twice creates nothing the second time. Rows are bulk-created; the customers' won type comes from
the customer archive's own demo data.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm.accounts.models import Team
from crm.core import demo
from crm.core.numbering import next_number
from customers.models import Customer
from opportunities.models import (
    Competitor,
    Instalment,
    LostReason,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityLine,
    Order,
    OrderLine,
    Receipt,
    SalesTarget,
    Stage,
    StageVisit,
)
from opportunities.services import ORDER_PREFIX

SEED = 2026
DAYS = 365
PRODUCTS = [
    ("CRM 专业版年度许可", Decimal("1200.00")),
    ("实施与数据迁移服务", Decimal("30000.00")),
    ("工业网关设备", Decimal("8500.00")),
    ("运维服务包（年）", Decimal("24000.00")),
    ("定制开发（人天）", Decimal("2500.00")),
]
NAMES = ["数字化升级项目", "设备采购", "年度服务续约", "二期扩容", "试点项目", "系统集成项目"]
COMPETITORS = [
    ("用友", "品牌知名度高，财务模块成熟", "实施周期长，价格偏高"),
    ("金蝶", "中小企业客户多，报价灵活", "定制能力有限"),
    ("纷享销客", "移动端体验好", "行业方案较少"),
]
OBJECTIONS = [
    ("price", "报价超出今年预算约 20%。", "提供分期付款并拆分二期实施。", "同意内部再评估。"),
    ("function", "希望支持与现有 ERP 的双向同步。", "安排技术团队演示接口方案。", "基本认可。"),
    ("timeline", "担心上线周期影响旺季业务。", "提出分阶段上线计划。", ""),
]
# Where the customer's type leads its opportunities: (open, won, lost) weights.
OUTCOMES = {
    Customer.Type.WON: (1, 6, 1),
    Customer.Type.INTENTION: (6, 1, 1),
    Customer.Type.POTENTIAL: (5, 0, 1),
    Customer.Type.LOST: (0, 0, 1),
}


@demo.register(50, "opportunities")
def seed_opportunities() -> None:
    stages = list(Stage.objects.filter(is_active=True))
    if not stages:
        return  # the dictionaries migration has not run
    open_stages = [stage for stage in stages if stage.is_open]
    by_kind = {stage.kind: stage for stage in stages if not stage.is_open}
    reasons = list(LostReason.objects.filter(is_active=True))
    objection_types = {kind.code: kind for kind in ObjectionType.objects.all()}
    customers = list(
        Customer.objects.filter(owner__isnull=False)
        .annotate(has_any=Exists(Opportunity.objects.filter(customer=OuterRef("pk"))))
        .order_by("pk")
    )
    rng = random.Random(SEED)  # noqa: S311 - repeatable demo data, not secrets
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        _targets(timezone.localdate(now).year)
        for customer in customers:
            plans = [_draw(rng, customer) for _index in range(rng.choice([1, 1, 2]))]
            if customer.has_any:  # type: ignore[attr-defined]
                continue
            for plan in plans:
                _create(plan, customer, now, open_stages, by_kind, reasons, objection_types)
        # The demo writes its stage history directly: the funnel's furthest stage from it.
        Opportunity.objects.filter(furthest_stage__isnull=True).refresh_furthest_stage()


COMPANY_TARGET = Decimal("1200000")
TEAM_TARGET = Decimal("600000")


def _targets(year: int) -> None:
    """Monthly targets for the company and each sales team that owns customers, if missing."""
    teams = Team.objects.filter(members__customers__isnull=False).distinct()
    for month in range(1, 13):
        day = datetime.date(year, month, 1)
        SalesTarget.objects.get_or_create(
            month=day, team=None, owner=None, defaults={"amount": COMPANY_TARGET}
        )
        for team in teams:
            SalesTarget.objects.get_or_create(
                month=day, team=team, owner=None, defaults={"amount": TEAM_TARGET}
            )


def _draw(rng: random.Random, customer: Customer) -> dict:
    weights = OUTCOMES.get(Customer.Type(customer.type), (1, 1, 1))
    outcome = rng.choices(["open", "won", "lost"], weights=weights)[0]
    lines = [
        (product, price, Decimal(rng.randint(1, 20)))
        for product, price in rng.sample(PRODUCTS, rng.randint(1, 3))
    ]
    return {
        "outcome": outcome,
        "name": rng.choice(NAMES),
        "started_days_ago": rng.randint(20, DAYS),
        "depth": rng.randint(0, 4),  # how far along the open stages it went
        "step_days": [rng.randint(3, 20) for _step in range(7)],
        "close_in_days": rng.randint(7, 150),
        "lines": lines,
        "competitor": rng.choice(COMPETITORS) if rng.random() < 0.5 else None,
        "objection": rng.choice(OBJECTIONS) if rng.random() < 0.4 else None,
        "reason_index": rng.randrange(100),
        "instalments": rng.choice([1, 2, 3]),
        "paid_share": rng.random(),
        "contract_months": rng.choice([12, 12, 24, 36]),
    }


def _create(plan, customer, now, open_stages, by_kind, reasons, objection_types) -> None:  # type: ignore[no-untyped-def]
    owner_id = customer.owner_id
    start = now - datetime.timedelta(days=plan["started_days_ago"])
    amount = sum((price * quantity for _name, price, quantity in plan["lines"]), Decimal(0))
    path = open_stages[: plan["depth"] + 1]
    if plan["outcome"] == "won":
        path = [*open_stages[: max(plan["depth"], 3) + 1], by_kind[Stage.Kind.WON]]
    elif plan["outcome"] == "lost":
        path = [*path, by_kind[Stage.Kind.LOST]]
    steps = plan["step_days"][: len(path) - 1]
    # A path longer than the time since it started is squeezed into it.
    scale = min(1.0, (now - start).days / max(sum(steps), 1))
    moments = [start]
    for days in steps:
        moments.append(moments[-1] + datetime.timedelta(days=days * scale))
    final = path[-1]
    closed_at = moments[-1] if not final.is_open else None
    close_date = timezone.localdate(
        closed_at or now + datetime.timedelta(days=plan["close_in_days"])
    )
    opportunity = Opportunity(
        customer=customer,
        name=f"{customer.name[:20]}{plan['name']}",
        owner_id=owner_id,
        stage=final,
        amount=amount,
        amount_from_lines=True,
        expected_close_date=close_date,
        source_id=customer.source_id,
        next_step="" if closed_at else "约见决策人确认方案细节",
        lost_reason=reasons[plan["reason_index"] % len(reasons)]
        if final.kind == Stage.Kind.LOST
        else None,
        closed_at=closed_at,
        stage_entered_at=moments[-1],
        touched_at=moments[-1],
        created_by_id=owner_id,
        created_at=start,
    )
    bulk_create_with_history([opportunity], Opportunity, default_date=start)
    opportunity = Opportunity.objects.get(
        customer=customer, created_at=start, name=opportunity.name
    )
    OpportunityLine.objects.bulk_create(
        OpportunityLine(opportunity=opportunity, product=name, unit_price=price, quantity=quantity)
        for name, price, quantity in plan["lines"]
    )
    StageVisit.objects.bulk_create(
        StageVisit(
            opportunity=opportunity,
            stage=stage,
            from_stage=path[index - 1] if index else None,
            entered_at=moments[index],
            left_at=moments[index + 1] if index + 1 < len(path) else None,
            by_id=owner_id,
            # History is not news: only stays that go stale from now on remind.
            stale_reminded_at=now if index + 1 == len(path) else None,
        )
        for index, stage in enumerate(path)
    )
    if plan["competitor"]:
        name, strengths, weaknesses = plan["competitor"]
        Competitor.objects.create(
            opportunity=opportunity, name=name, strengths=strengths, weaknesses=weaknesses
        )
    if plan["objection"] and plan["objection"][0] in objection_types:
        code, description, solution, response = plan["objection"]
        Objection.objects.create(
            opportunity=opportunity,
            type=objection_types[code],
            description=description,
            solution=solution,
            customer_response=response,
            resolved=bool(response),
            recorded_by_id=owner_id,
            created_at=moments[min(2, len(moments) - 1)],
        )
    if final.kind == Stage.Kind.WON:
        _order(plan, opportunity, closed_at, amount, by_kind, now)


def _order(plan, opportunity, signed_at, amount, by_kind, now) -> None:  # type: ignore[no-untyped-def]
    signed_on = timezone.localdate(signed_at)
    order = Order(
        number=next_number(ORDER_PREFIX, day=signed_on),
        opportunity=opportunity,
        customer_id=opportunity.customer_id,
        owner_id=opportunity.owner_id,
        amount=amount,
        signed_on=signed_on,
        contract_ends_on=signed_on + datetime.timedelta(days=30 * plan["contract_months"]),
        created_by_id=opportunity.owner_id,
        created_at=signed_at,
    )
    bulk_create_with_history([order], Order, default_date=signed_at)
    order = Order.objects.get(number=order.number)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order, product=line.product, unit_price=line.unit_price, quantity=line.quantity
        )
        for line in opportunity.lines.all()
    )
    count = plan["instalments"]
    share = (amount / count).quantize(Decimal("0.01"))
    shares = [share] * (count - 1) + [amount - share * (count - 1)]
    today = timezone.localdate(now)
    paid_all = True
    for index, part in enumerate(shares):
        due = signed_on + datetime.timedelta(days=30 + 60 * index)
        # Instalments past due are paid unless the draw leaves the later ones owing.
        paid = due < today and plan["paid_share"] > (index + 1) / (count + 1)
        instalment = Instalment.objects.create(
            order=order,
            due_date=due,
            amount=part,
            paid_at=now if paid else None,
            overdue_notified_at=now if due < today else None,
        )
        paid_all = paid_all and paid
        if paid:
            Receipt.objects.create(
                order=order,
                instalment=instalment,
                amount=part,
                received_on=min(due + datetime.timedelta(days=3), today),
                recorded_by_id=opportunity.owner_id,
            )
    if paid_all:
        collected = by_kind.get(Stage.Kind.COLLECTED)
        if collected is not None:
            last = StageVisit.objects.get(opportunity=opportunity, left_at__isnull=True)
            moved_at = min(now, last.entered_at + datetime.timedelta(days=60 * count))
            last.left_at = moved_at
            last.save(update_fields=["left_at"])
            StageVisit.objects.create(
                opportunity=opportunity,
                stage=collected,
                from_stage=last.stage,
                entered_at=moved_at,
                by_id=opportunity.owner_id,
                stale_reminded_at=now,
            )
            Opportunity.objects.filter(pk=opportunity.pk).update(
                stage=collected, stage_entered_at=moved_at
            )
