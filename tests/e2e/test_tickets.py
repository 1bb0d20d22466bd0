"""Service desk journeys in a real browser: an agent takes a ticket from the pool and replies
publicly; a supervisor finds a breached ticket highlighted in the queue."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tickets import services
from tickets.demo import _ensure_queue
from tickets.models import QueueAgent, Ticket, TicketCategory, TicketMessage

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def log(**fields) -> Ticket:
    category = TicketCategory.objects.get(name="产品使用类")
    return services.ticket_create(
        contact_name="周女士",
        contact_email="zhou@example.com",
        category=category,
        channel=Ticket.Channel.PORTAL,
        **fields,
    )


def test_an_agent_takes_a_ticket_and_replies_publicly(page: Page, demo_users, sign_in):
    queue = _ensure_queue()
    QueueAgent.objects.filter(queue=queue).update(on_duty=False)  # it stays in the pool
    ticket = log(description="审批流程怎么设置三级审批？")
    sign_in("agent1")

    page.goto("/tickets/?queue=unassigned")
    row = page.get_by_test_id("ticket-row").filter(has_text=ticket.number)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=ticket.number).click()
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("ticket-status")).to_have_attribute("data-status", "processing")
    expect(page.get_by_test_id("ticket-assignee")).to_contain_text("陈静")

    form = page.get_by_test_id("message-form")
    form.locator("textarea[name=body]").fill("您好，在“系统设置-审批流”中可添加三级审批节点。")
    form.get_by_test_id("send-message").click()
    expect(page.get_by_test_id("message-reply")).to_contain_text("三级审批节点")

    ticket.refresh_from_db()
    assert ticket.assignee == demo_users["agent1"]
    assert ticket.first_responded_at is not None
    assert ticket.messages.get().kind == TicketMessage.Kind.REPLY


def test_a_supervisor_sees_a_breached_ticket_highlighted(page: Page, demo_users, sign_in):
    _ensure_queue()
    breached = log(
        description="设备报警无法复位",
        priority=Ticket.Priority.URGENT,
        created_at=timezone.now() - datetime.timedelta(days=10),
    )
    on_time = log(description="想了解新版本功能")
    sign_in("supervisor")

    page.goto("/tickets/?queue=queue")
    breached_row = page.get_by_test_id("ticket-row").filter(has_text=breached.number)
    expect(breached_row).to_have_attribute("data-breached", "true")
    expect(breached_row).to_have_class(re.compile("table-danger"))
    on_time_row = page.get_by_test_id("ticket-row").filter(has_text=on_time.number)
    expect(on_time_row).not_to_have_class(re.compile("table-danger"))
    expect(page.get_by_test_id("queue-count-breached")).to_have_text("1")

    page.get_by_test_id("queue-breached").click()
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    page.get_by_role("link", name=breached.number).click()
    expect(page.get_by_test_id("ticket-breached")).to_be_visible()
