"""Pipeline journey in a real browser: a rep drags a card from proposal to negotiation and sees
the column totals change; a drop on won without an order is refused with a message; the rep
records the order and a payment."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from crm.core.templatetags.crm import cny
from customers.models import Customer, CustomerCategory
from customers.services import customer_create
from opportunities import services
from opportunities.models import Opportunity, Order, Stage

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def shown(amount: str) -> str:
    """An amount as the zh-hans board shows it."""
    with translation.override("zh-hans"):
        return cny(Decimal(amount))


def drag(page: Page, card, zone) -> None:
    """Presses on the card, moves in steps (SortableJS follows the pointer), lingers over the
    column so that it takes the card, lets go and waits for the board's answer."""
    card.scroll_into_view_if_needed()
    start = card.bounding_box()
    end = zone.bounding_box()
    x, y = end["x"] + end["width"] / 2, end["y"] + 30
    with page.expect_response(lambda response: "/move/" in response.url):
        page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
        page.mouse.down()
        page.mouse.move(start["x"] + start["width"] / 2 + 5, start["y"] + 15, steps=5)
        page.mouse.move(x, y, steps=20)
        page.mouse.move(x + 3, y + 3, steps=5)
        page.wait_for_timeout(200)  # Sortable's 150 ms animation moves the placeholder
        page.mouse.up()


def test_a_rep_works_a_deal_across_the_board_to_its_first_payment(page: Page, demo_users, sign_in):
    rep = demo_users["rep1"]
    customer = customer_create(
        by=rep,
        owner=rep,
        name="宁波港城智能装备有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    opportunity = services.opportunity_create(
        customer=customer,
        by=rep,
        name="智能仓储系统采购",
        stage=Stage.objects.get(code="proposal"),
        amount=Decimal("200000"),
        expected_close_date=timezone.localdate() + datetime.timedelta(days=20),
    )
    sign_in("rep1")

    page.goto("/opportunities/board/")
    proposal = page.get_by_test_id("column-proposal")
    negotiation = page.get_by_test_id("column-negotiation")
    expect(proposal.get_by_test_id("column-count")).to_have_text("1")
    expect(proposal.get_by_test_id("column-weighted")).to_have_text(shown("120000"))
    expect(negotiation.get_by_test_id("column-count")).to_have_text("0")

    card = proposal.get_by_test_id("card").filter(has_text="智能仓储系统采购")
    drag(page, card, negotiation.locator("[data-drop-zone]"))

    expect(negotiation.get_by_test_id("column-count")).to_have_text("1")
    expect(negotiation.get_by_test_id("column-amount")).to_have_text(shown("200000"))
    expect(negotiation.get_by_test_id("column-weighted")).to_have_text(shown("160000"))
    expect(proposal.get_by_test_id("column-count")).to_have_text("0")
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "negotiation"

    won = page.get_by_test_id("column-won")
    drag(page, negotiation.get_by_test_id("card"), won.locator("[data-drop-zone]"))

    expect(page.locator("#board .alert-danger")).to_be_visible()
    expect(negotiation.get_by_test_id("card")).to_have_count(1)
    expect(won.get_by_test_id("column-count")).to_have_text("0")
    assert Opportunity.objects.get(pk=opportunity.pk).stage.code == "negotiation"

    negotiation.get_by_test_id("card").get_by_role("link").click()
    page.get_by_test_id("record-order").click()
    form = page.get_by_test_id("order-form")
    expect(form.locator("#id_amount")).to_have_value("200000.00")
    ends = timezone.localdate() + datetime.timedelta(days=365)
    form.locator("#id_contract_ends_on").fill(ends.isoformat())
    page.get_by_test_id("save-order").click()

    expect(page.get_by_test_id("order-amount")).to_have_text(shown("200000"))
    order = Order.objects.get(opportunity=opportunity)
    assert Customer.objects.get(pk=customer.pk).type == Customer.Type.WON

    page.locator("#id_plan-due_date").fill(timezone.localdate().isoformat())
    page.locator("#id_plan-amount").fill("80000")
    page.get_by_test_id("instalment-form").get_by_role("button").click()
    expect(page.get_by_test_id("instalment")).to_have_count(1)

    page.locator("#id_receipt-instalment").select_option(index=1)
    page.locator("#id_receipt-amount").fill("50000")
    page.get_by_test_id("receipt-form").get_by_role("button").click()

    expect(page.get_by_test_id("receipt")).to_have_count(1)
    expect(page.get_by_test_id("order-collected")).to_have_text(shown("50000"))
    expect(page.get_by_test_id("order-outstanding")).to_have_text(shown("150000"))
    assert order.receipts.get().amount == Decimal("50000")
