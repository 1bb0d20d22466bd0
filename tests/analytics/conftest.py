"""A small, hand-countable world for the dashboards, built through the real services at frozen
times in June 2026 (Shanghai):

team A (alice; manager heads it): o1 lead → initial contact → needs confirmed → proposal → won
(order ¥300,000), o2 lead → initial contact → lost (price), o3 stays a lead, o4 starts at
proposal. Team B (charlie): o5 lead → initial contact → needs confirmed.
Every step is two days apart, so the stays are 2 days, the proposal stay 4 days.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from customers.models import CustomerCategory, SourceChannel
from customers.services import customer_create
from opportunities import services as pipeline
from opportunities.models import LostReason, Stage

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
JUNE_1 = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
JUNE = {"period": "custom", "start": "2026-06-01", "end": "2026-06-30"}


def at(days: int) -> datetime.datetime:
    return JUNE_1 + datetime.timedelta(days=days)


@pytest.fixture
def june():
    with time_machine.travel(JUNE_1, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stage(db):
    stages = {stage.code: stage for stage in Stage.objects.all()}
    return stages.__getitem__


@pytest.fixture
def make_customer(db):
    def make(owner, name, source="exhibition", **fields):
        return customer_create(
            by=owner,
            owner=owner,
            name=name,
            category=CustomerCategory.objects.get(name="企业客户"),
            source=SourceChannel.objects.get(code=source),
            **fields,
        )

    return make


@pytest.fixture
def pipeline_world(june, alice, charlie, manager, stage, make_customer):
    """The five opportunities of the module docstring; returns them by name."""

    def new(customer, owner, name, code="lead"):
        return pipeline.opportunity_create(
            customer=customer,
            by=owner,
            name=name,
            stage=stage(code),
            amount=Decimal("100000"),
            expected_close_date=datetime.date(2026, 7, 15),
        )

    def move(opportunity, owner, code, **extra):
        return pipeline.opportunity_move_stage(
            opportunity=opportunity, stage=stage(code), by=owner, **extra
        )

    east = make_customer(alice, "杭州东方机械有限公司")
    west = make_customer(alice, "宁波西湖电子有限公司", source="online_ads")
    north = make_customer(charlie, "苏州北辰科技有限公司")
    o1 = new(east, alice, "数控机床采购")
    o2 = new(west, alice, "电子产线改造")
    o3 = new(west, alice, "备件年度框架")
    o4 = new(east, alice, "二期扩产", code="proposal")
    o5 = new(north, charlie, "仓储系统")
    june.move_to(at(2))
    for opportunity, owner in ((o1, alice), (o2, alice), (o5, charlie)):
        move(opportunity, owner, "initial_contact")
    june.move_to(at(4))
    move(o1, alice, "needs_confirmed")
    move(o5, charlie, "needs_confirmed")
    move(o2, alice, "lost", lost_reason=LostReason.objects.get(code="price"))
    june.move_to(at(6))
    move(o1, alice, "proposal")
    june.move_to(at(10))
    order = pipeline.order_create(
        opportunity=o1,
        by=alice,
        amount=Decimal("300000"),
        signed_on=timezone.localdate(),
        lines=[
            {"product": "五轴加工中心", "unit_price": Decimal("150000"), "quantity": Decimal("2")}
        ],
    )
    june.move_to(at(14))
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "order": order}
