"""Service portal journey in a real browser: a customer submits a request without logging in,
the agent it is dispatched to takes it and replies publicly, the customer reads the reply on the
private status link, confirms the resolution and rates the service."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from crm.accounts.models import Team
from tickets.models import QueueAgent, ServiceQueue, Survey, Ticket, TicketCategory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_customer_submits_follows_confirms_and_rates(page: Page, new_page, demo_users, sign_in):
    queue = ServiceQueue.objects.create(team=Team.objects.get(name="客服部"))
    QueueAgent.objects.create(queue=queue, user=demo_users["agent1"])
    TicketCategory.objects.filter(parent__isnull=True).update(queue=queue)
    category = TicketCategory.objects.get(name="产品使用类")

    # The customer, not signed in.
    page.goto("/service/")
    form = page.get_by_test_id("portal-form")
    form.locator("#id_category").select_option(str(category.pk))
    form.locator("#id_description").fill("导出月度报表时提示“权限不足”，我们用的是管理员账号。")
    form.locator("#id_contact_name").fill("刘洋")
    form.locator("#id_contact_email").fill("liuyang@example.com")
    form.get_by_test_id("portal-submit").click()
    # No phone and no email would be refused; with an email it goes through.
    expect(page.get_by_test_id("portal-created")).to_be_visible()
    ticket = Ticket.objects.get()
    expect(page.get_by_test_id("portal-number")).to_have_text(ticket.number)
    expect(page.get_by_test_id("portal-status-url")).to_contain_text(ticket.public_token)
    status_url = page.url.split("?")[0]
    assert ticket.assignee == demo_users["agent1"]

    # The agent replies publicly and asks the customer to confirm.
    agent_page = new_page()
    sign_in("agent1", on=agent_page)
    agent_page.goto(ticket.get_absolute_url())
    reply = agent_page.get_by_test_id("message-form")
    reply.locator("textarea").fill("您好，已为管理员账号开通报表导出权限，请重新登录后再试。")
    reply.get_by_test_id("send-message").click()
    expect(agent_page.get_by_test_id("message-reply")).to_contain_text("已为管理员账号开通")
    agent_page.get_by_test_id("move-awaiting").click()
    expect(agent_page.get_by_test_id("move-awaiting")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.AWAITING
    assert any(ticket.public_token in message.body for message in mail.outbox)

    # The customer reads the reply on the status link and confirms.
    page.goto(status_url)
    expect(page.get_by_test_id("portal-messages")).to_contain_text("已为管理员账号开通")
    page.get_by_test_id("portal-confirm").click()
    expect(page.get_by_test_id("portal-confirm")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED

    # Closing sent the survey; the status page offers it too. Four stars and a comment.
    survey = Survey.objects.get(ticket=ticket)
    assert any(survey.token in message.body for message in mail.outbox)
    page.get_by_test_id("portal-survey-link").click()
    expect(page).to_have_url(re.compile(f"/survey/{survey.token}/$"))
    page.get_by_test_id("survey-submit").click()  # no score chosen: explained, nothing saved
    expect(page.get_by_test_id("survey-score-error")).to_be_visible()
    page.get_by_test_id("survey-score-4").click()
    page.locator("#id_comment").fill("响应很快，谢谢！")
    page.get_by_test_id("survey-submit").click()
    expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "响应很快，谢谢！")

    # The link was single use.
    page.goto(f"/survey/{survey.token}/")
    expect(page.get_by_test_id("survey-closed")).to_be_visible()
