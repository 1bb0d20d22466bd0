"""The pipeline's URLs: opportunities and what hangs on them, orders with their payment plan, the
forecast and the finance view."""

import datetime
from decimal import Decimal

from django.utils import timezone

from opportunities import services
from opportunities.models import ObjectionType, Stage
from tests.security.matrix import (
    FORBIDDEN,
    LOGIN,
    OK,
    OWNER_LINE,
    OWNER_LINE_WRITE,
    ROLES,
    SIGNED_IN,
    Entry,
)

ORDER = 30


def build(world):  # type: ignore[no-untyped-def]
    alice = world.users["alice"]
    today = timezone.localdate()
    world.opportunity = services.opportunity_create(
        customer=world.customer,
        by=alice,
        name="矩阵探针数控机床采购",
        stage=Stage.objects.get(code="proposal"),
        amount=Decimal("380000"),
        expected_close_date=today + datetime.timedelta(days=30),
        next_step="探针下一步：约技术交流",
    )
    world.line = services.line_add(
        opportunity=world.opportunity,
        by=alice,
        product="探针五轴加工中心",
        unit_price=Decimal("190000"),
        quantity=Decimal("2"),
    )
    world.competitor = services.competitor_add(
        opportunity=world.opportunity,
        by=alice,
        name="探针对手重工",
        strengths="探针对手优势：报价低",
        weaknesses="探针对手劣势：交期长",
    )
    world.objection = services.objection_add(
        opportunity=world.opportunity,
        by=alice,
        type=ObjectionType.objects.filter(is_active=True).first(),
        description="探针异议：预算不足",
        solution="探针方案：分期付款",
        customer_response="探针回应：再议",
    )
    world.order = services.order_create(
        opportunity=world.opportunity,
        by=alice,
        amount=Decimal("380000"),
        signed_on=today,
        notes="探针订单备注",
    )
    world.instalment = services.instalment_add(
        order=world.order,
        by=alice,
        due_date=today + datetime.timedelta(days=30),
        amount=Decimal("100000"),
        note="探针首付款",
    )
    world.opportunity.refresh_from_db()
    world.secrets += [
        "矩阵探针数控机床采购",
        "探针五轴加工中心",
        "探针对手重工",
        "探针异议：预算不足",
        "探针订单备注",
        "探针首付款",
        world.order.number,
    ]
    world.records += [
        world.opportunity,
        world.line,
        world.competitor,
        world.objection,
        world.order,
        *world.order.lines.all(),
        world.instalment,
    ]


def opportunity(world):  # type: ignore[no-untyped-def]
    return {"pk": world.opportunity.pk}


def order(world):  # type: ignore[no-untyped-def]
    return {"pk": world.order.pk}


def restoring(attribute):  # type: ignore[no-untyped-def]
    """Post data that first puts back the row a previous role's probe removed, so that every
    role's removal meets a real record (the manager's must not leave alice a 404)."""

    def post_data(world):  # type: ignore[no-untyped-def]
        record = getattr(world, attribute)
        if not type(record)._base_manager.filter(pk=record.pk).exists():
            record.save(force_insert=True)
        return {}

    return post_data


# The pipeline's pages: reps, sales managers and analysts (who read); the service desk is refused.
PIPELINE = {**SIGNED_IN, "agent": FORBIDDEN, "supervisor": FORBIDDEN}
# Creating an opportunity on alice's customer: the customer's line, but a pipeline page first.
CREATE = {**OWNER_LINE_WRITE, "agent": FORBIDDEN, "supervisor": FORBIDDEN}
# 财务: sales managers and analysts; reps follow payments on their own orders' pages.
FINANCE = {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "analyst": OK, "manager": OK}

ENTRIES = {
    "opportunities:list": Entry(get=PIPELINE),
    "opportunities:board": Entry(get=PIPELINE),
    "opportunities:forecast": Entry(get=PIPELINE),
    "opportunities:export": Entry(
        get=PIPELINE,
        post=PIPELINE,
        post_data=lambda world: {"file_format": "csv"},
        note="no contact data: the file at once, within what the user sees",
    ),
    "opportunities:create": Entry(
        query=lambda world: f"?customer={world.customer.pk}",
        get=CREATE,
        post=CREATE,
        note="the service desk has no pipeline (403) before the customer is looked up",
    ),
    "opportunities:detail": Entry(kwargs=opportunity, get=OWNER_LINE),
    "opportunities:edit": Entry(kwargs=opportunity, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE),
    "opportunities:move": Entry(kwargs=opportunity, post=OWNER_LINE_WRITE),
    "opportunities:line_add": Entry(kwargs=opportunity, post=OWNER_LINE_WRITE),
    "opportunities:line_remove": Entry(
        kwargs=lambda world: {"pk": world.opportunity.pk, "line_pk": world.line.pk},
        post=OWNER_LINE_WRITE,
        post_data=restoring("line"),
    ),
    "opportunities:competitor_add": Entry(kwargs=opportunity, post=OWNER_LINE_WRITE),
    "opportunities:competitor_remove": Entry(
        kwargs=lambda world: {"pk": world.opportunity.pk, "competitor_pk": world.competitor.pk},
        post=OWNER_LINE_WRITE,
        post_data=restoring("competitor"),
    ),
    "opportunities:objection_add": Entry(kwargs=opportunity, post=OWNER_LINE_WRITE),
    "opportunities:objection_update": Entry(
        kwargs=lambda world: {"pk": world.opportunity.pk, "objection_pk": world.objection.pk},
        post=OWNER_LINE_WRITE,
    ),
    "opportunities:order_create": Entry(
        kwargs=opportunity, get=OWNER_LINE_WRITE, post=OWNER_LINE_WRITE
    ),
    "opportunities:order": Entry(kwargs=order, get=OWNER_LINE),
    "opportunities:instalment_add": Entry(kwargs=order, post=OWNER_LINE_WRITE),
    "opportunities:receipt_add": Entry(kwargs=order, post=OWNER_LINE_WRITE),
    "opportunities:finance": Entry(get=FINANCE),
}
