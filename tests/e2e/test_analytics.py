"""Dashboards in a real browser: a sales manager opens the sales dashboard, narrows the date
range, clicks a stage of the funnel chart and lands on the list of the opportunities that
reached it — as many as the chart said."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import CustomerCategory
from customers.services import customer_create
from opportunities import services
from opportunities.models import Stage

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def opportunity(customer, rep, name, code):
    return services.opportunity_create(
        customer=customer,
        by=rep,
        name=name,
        stage=Stage.objects.get(code=code),
        amount=Decimal("100000"),
        expected_close_date=timezone.localdate() + datetime.timedelta(days=30),
    )


def click_funnel_step(page: Page, index: int, steps: int) -> None:
    """Clicks the middle of a funnel step. The chart draws the steps top to bottom between
    ECharts' default 60 px margins, 2 px apart, centred on 45% of the width (left 10%, width
    70%), so the middle of each step is known without reading the canvas."""
    box = page.get_by_test_id("chart-funnel").get_by_test_id("chart-canvas")
    expect(box).to_have_attribute("data-ready", "true")
    box.scroll_into_view_if_needed()
    bounds = box.bounding_box()
    height = (bounds["height"] - 120 - 2 * (steps - 1)) / steps
    y = bounds["y"] + 60 + index * (height + 2) + height / 2
    page.mouse.click(bounds["x"] + bounds["width"] * 0.45, y)


def test_a_manager_drills_from_the_funnel_to_the_opportunities(page: Page, demo_users, sign_in):
    rep = demo_users["rep1"]
    customer = customer_create(
        by=rep,
        owner=rep,
        name="嘉兴漏斗演示机械有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    with time_machine.travel(timezone.now() - datetime.timedelta(days=60), tick=False):
        opportunity(customer, rep, "两个月前的方案", "proposal")
    opportunity(customer, rep, "新线索", "lead")
    moved = opportunity(customer, rep, "推进到方案的项目", "lead")
    services.opportunity_move_stage(
        opportunity=moved, stage=Stage.objects.get(code="proposal"), by=rep
    )
    opportunity(customer, rep, "直接提交方案", "proposal")

    sign_in("manager")
    page.goto("/analytics/sales/")
    funnel_table = page.get_by_test_id("table-funnel")
    expect(funnel_table.locator("tbody tr").nth(3)).to_contain_text("3")  # last 12 months

    page.locator("#id_period").select_option("30d")
    page.get_by_test_id("dashboard-filter").get_by_role("button", name="显示").click()
    expect(page.get_by_test_id("scope-summary")).to_contain_text(
        (timezone.localdate() - datetime.timedelta(days=29)).isoformat()
    )
    expect(funnel_table.locator("tbody tr").nth(3)).to_contain_text("2")

    click_funnel_step(page, index=3, steps=6)  # 方案提交
    page.wait_for_url("**/analytics/records/funnel/**")
    assert "reached=proposal" in page.url
    assert "period=30d" in page.url
    expect(page.get_by_test_id("record-count")).to_have_text("2")
    rows = page.get_by_test_id("record-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("record-table")).to_contain_text("推进到方案的项目")
    expect(page.get_by_test_id("record-table")).not_to_contain_text("两个月前的方案")
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/opportunities/*/")
    expect(page.locator("h1")).to_contain_text("方案")
