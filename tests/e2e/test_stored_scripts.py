"""Stored scripts in a real browser. Every free-text field of a customer, its contact, its
follow-up tasks, records and plan, its opportunities (lines, competitors, objections, the order,
its payment plan and receipts), its tickets (messages, collaborators, delay explanation), the
approval request and the notifications they raised holds an ``<img src=x onerror=…>`` and a
``<script>``, each setting a window flag with the field's own number. Every page that shows
them is opened by whoever works there, with the Content Security Policy switched off in the
browser (``bypass_csp``), so that a payload the templates let through would really run.

On every page: the flag is never set, no element of a payload exists in the DOM, nothing asked
for the image ``x``; and each field's payload is shown as text (its ``id=xss<n>_`` marker is in
the page's text, which it could only be if it was escaped) on at least one of the pages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import models
from django.utils import timezone
from playwright.sync_api import Page

from crm.notifications.models import Notification
from customers.models import Customer, CustomerCategory, CustomField
from customers.services import customer_create, customer_delete_request
from followups import reminders
from followups import services as followups
from followups.models import FollowUpMethod, FollowUpPlan, Stage
from opportunities import services as pipeline
from opportunities.models import LostReason, ObjectionType
from opportunities.models import Stage as DealStage
from tests.security.conftest import free_text_fields
from tickets import services as desk
from tickets.demo import _ensure_queue
from tickets.models import Ticket, TicketCategory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Text fields that hold a key, a link or a copy, not text a person typed and a page shows.
NOT_SHOWN = {("notification", "url"), ("approvalrequest", "kind")}


def payload(key: int, limit: int | None) -> str:
    """The longest of three payloads that fits the column; each carries ``id=xss<key>_``."""
    full = f"<img src=x id=xss{key}_ onerror=__xss={key}><script>__xss={key}</script>"
    image = f"<img src=x id=xss{key}_ onerror=__xss={key}>"
    tag = f"<b id=xss{key}_>"
    return next(text for text in (full, image, tag) if limit is None or len(text) <= limit)


def marker(key: int) -> str:
    return f"id=xss{key}_"


class Payloads:
    """Writes a numbered payload into every free-text field of the records given."""

    def __init__(self) -> None:
        self.fields: dict[int, str] = {}  # key → "model.field"

    def inject(self, record: models.Model, *extra: str) -> None:
        names = [
            name
            for name in [*free_text_fields(record), *extra]
            if (record._meta.model_name, name) not in NOT_SHOWN
        ]
        values = {}
        for name in names:
            key = len(self.fields) + 1
            self.fields[key] = f"{record._meta.model_name}.{name}"
            values[name] = payload(key, record._meta.get_field(name).max_length)
        type(record)._base_manager.filter(pk=record.pk).update(**values)

    def key(self, field: str) -> int:
        return next(key for key, name in self.fields.items() if name == field)


@pytest.fixture
def world(demo_users) -> SimpleNamespace:
    rep, agent, supervisor = demo_users["rep1"], demo_users["agent1"], demo_users["supervisor"]
    now = timezone.now()
    today = timezone.localdate()
    CustomField.objects.create(key="licence", label="执照号", type=CustomField.Type.TEXT)
    customer = customer_create(
        by=rep,
        owner=rep,
        name="脚本注入测试有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        address="苏州工业园区星湖街328号",
        city="苏州",
        district="工业园区",
        notes="重要客户",
        contacts=[
            {"name": "王经理", "title": "采购经理", "phone": "13812345678", "email": "w@x.cn"}
        ],
    )
    contact = customer.contacts.get()
    task = followups.task_create(
        customer=customer,
        owner=rep,
        by=rep,
        title="电话回访",
        due_at=now + datetime.timedelta(hours=3),
    )
    overdue = followups.task_create(
        customer=customer,
        owner=rep,
        by=rep,
        title="逾期回访",
        due_at=now - datetime.timedelta(hours=2),
    )
    record = followups.record_create(
        customer=customer,
        by=rep,
        occurred_at=now - datetime.timedelta(hours=1),
        method=FollowUpMethod.objects.get(code="phone"),
        our_participants="李明",
        their_participants="王经理",
        topic="需求沟通",
        summary="确认需求",
        feedback="满意",
        next_step="发送报价单",
        next_step_at=now + datetime.timedelta(days=2),
        commitments=[("寄送样品", now + datetime.timedelta(days=1))],
    )
    plan = followups.plan_create(
        customer=customer,
        owner=rep,
        by=rep,
        stage=Stage.INITIAL_CONTACT,
        cadence=FollowUpPlan.Cadence.WEEKLY,
        starts_on=today + datetime.timedelta(days=1),
        content_points="介绍新产品",
    )
    deal = pipeline.opportunity_create(
        customer=customer,
        by=rep,
        name="数控机床采购",
        stage=DealStage.objects.get(code="proposal"),
        amount=Decimal("380000"),
        expected_close_date=today + datetime.timedelta(days=20),
        next_step="约技术交流",
    )
    line = pipeline.line_add(
        opportunity=deal, by=rep, product="五轴加工中心", unit_price=Decimal("190000"), quantity=2
    )
    competitor = pipeline.competitor_add(
        opportunity=deal, by=rep, name="对手重工", strengths="报价低", weaknesses="交期长"
    )
    objection = pipeline.objection_add(
        opportunity=deal,
        by=rep,
        type=ObjectionType.objects.filter(is_active=True).first(),
        description="预算不足",
        solution="分期付款",
        customer_response="再议",
    )
    won = pipeline.opportunity_create(
        customer=customer,
        by=rep,
        name="年度维保合同",
        stage=DealStage.objects.get(code="negotiation"),
        amount=Decimal("100000"),
        expected_close_date=today + datetime.timedelta(days=5),
    )
    order = pipeline.order_create(
        opportunity=won, by=rep, amount=Decimal("100000"), signed_on=today, notes="框架协议"
    )
    instalment = pipeline.instalment_add(
        order=order, by=rep, due_date=today, amount=Decimal("40000"), note="首付款"
    )
    receipt = pipeline.receipt_record(
        instalment=instalment, by=rep, amount=Decimal("10000"), received_on=today, reference="转账"
    )
    lost = pipeline.opportunity_create(
        customer=customer,
        by=rep,
        name="备件采购",
        expected_close_date=today + datetime.timedelta(days=5),
    )
    pipeline.opportunity_move_stage(
        opportunity=lost,
        stage=DealStage.objects.get(code="lost"),
        by=rep,
        lost_reason=LostReason.objects.filter(is_active=True).first(),
        lost_note="预算取消",
    )
    _ensure_queue()
    ticket = desk.ticket_create(
        customer=customer,
        contact=contact,
        contact_name=contact.name,
        contact_email=contact.email,
        category=TicketCategory.objects.get(name="产品使用类"),
        subject="设备无法开机",
        description="按下电源键无反应",
        channel=Ticket.Channel.PHONE,
        by=agent,
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent)
    ticket.refresh_from_db()
    reply = desk.ticket_message_add(ticket=ticket, body="已安排上门", kind="reply", by=agent)
    note = desk.ticket_message_add(ticket=ticket, body="备件需调拨", kind="note", by=agent)
    collaborator = desk.collaborator_add(
        ticket=ticket,
        user=supervisor,
        task="确认备件",
        due_at=now + datetime.timedelta(days=1),
        by=agent,
    )
    delay = desk.delay_explanation_file(
        ticket=ticket, reason="备件缺货", new_date=today + datetime.timedelta(days=3), by=agent
    )
    approval = customer_delete_request(customer=customer, by=rep, reason="重复录入")

    payloads = Payloads()
    records = [
        customer,
        contact,
        task,
        overdue,
        record,
        *record.commitments.all(),
        plan,
        deal,
        line,
        competitor,
        objection,
        won,
        order,
        *order.lines.all(),
        instalment,
        receipt,
        lost,
        ticket,
        reply,
        note,
        collaborator,
        delay,
        *ticket.events.all(),
        approval,
    ]
    for item in records:
        payloads.inject(item, *(["address"] if item is customer else []))
    key = len(payloads.fields) + 1
    payloads.fields[key] = "customer.custom_data.licence"
    Customer.objects.filter(pk=customer.pk).update(custom_data={"licence": payload(key, None)})
    # Raised after the injection, so that their titles quote the payloads; then injected too.
    reminders.remind_overdue_tasks(now=timezone.now())
    for notification in Notification.objects.all():
        payloads.inject(notification)
    return SimpleNamespace(
        users=demo_users,
        payloads=payloads,
        customer=customer,
        contact=contact,
        task=task,
        deal=deal,
        lost=lost,
        plan=plan,
        order=order,
        ticket=ticket,
        approval=approval,
    )


PROBE = """() => ({
    flag: window.__xss ?? null,
    elements: [...document.querySelectorAll('[id^="xss"], img[src="x"]')].map(e => e.outerHTML),
    scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length,
    text: document.body.textContent,
})"""


class Visits:
    """Opens pages and collects, for each, what a payload could have done."""

    def __init__(self, payloads: Payloads) -> None:
        self.payloads = payloads
        self.seen: set[int] = set()
        self.problems: list[str] = []
        self.images: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on(
            "request",
            lambda request: (
                self.images.append(request.url) if request.url.rstrip("/").endswith("/x") else None
            ),
        )
        return page

    def check(self, page: Page, where: str) -> None:
        page.wait_for_load_state("networkidle")
        found = page.evaluate(PROBE)
        if found["flag"] is not None:
            field = self.payloads.fields.get(found["flag"], found["flag"])
            self.problems.append(f"{where}: the script of {field} ran")
        if found["elements"]:
            self.problems.append(f"{where}: payload elements in the DOM {found['elements']}")
        if found["scripts"]:
            self.problems.append(f"{where}: {found['scripts']} payload <script> elements")
        self.seen |= {key for key in self.payloads.fields if marker(key) in found["text"]}

    def open(self, page: Page, url: str) -> None:
        response = page.goto(url)
        assert response is not None
        assert response.status < 400, f"{url}: {response.status}"
        self.check(page, url)


def signed_in(new_page, sign_in, visits: Visits, username: str) -> Page:  # type: ignore[no-untyped-def]
    page = visits.watch(new_page(bypass_csp=True))
    sign_in(username, on=page)
    return page


def test_no_stored_script_runs_on_any_page_and_every_field_is_shown_as_text(
    world, new_page, sign_in
):
    visits = Visits(world.payloads)
    customer, ticket = world.customer, world.ticket

    rep = signed_in(new_page, sign_in, visits, "rep1")
    for url in [
        "/",
        "/customers/",
        f"/customers/?q={customer.number}",
        customer.get_absolute_url(),
        f"/customers/{customer.pk}/edit/",
        f"/customers/{customer.pk}/contacts/{world.contact.pk}/edit/",
        "/followups/",
        "/followups/calendar/",
        "/followups/calendar/?view=week",
        world.task.get_absolute_url(),
        f"/followups/tasks/{world.task.pk}/record/",
        f"/followups/plans/{world.plan.pk}/edit/",
        "/opportunities/",
        "/opportunities/board/",
        "/opportunities/forecast/",
        world.deal.get_absolute_url(),
        f"/opportunities/{world.deal.pk}/edit/",
        world.lost.get_absolute_url(),
        world.order.get_absolute_url(),
        "/notifications/",
        "/approvals/",
        world.approval.get_absolute_url(),
    ]:
        visits.open(rep, url)
    # The address arrives by an htmx swap when the owner asks to see it.
    rep.goto(customer.get_absolute_url())
    rep.get_by_test_id("reveal-address").click()
    rep.wait_for_function("!document.querySelector('#reveal-address').textContent.includes('*')")
    visits.check(rep, "the revealed address")

    manager = signed_in(new_page, sign_in, visits, "manager")
    for url in [
        "/approvals/",
        world.approval.get_absolute_url(),
        "/followups/team/",
        "/finance/",
        "/notifications/",
        customer.get_absolute_url(),
    ]:
        visits.open(manager, url)

    agent = signed_in(new_page, sign_in, visits, "agent1")
    for url in ["/tickets/", "/tickets/?queue=queue", ticket.get_absolute_url(), "/"]:
        visits.open(agent, url)

    supervisor = signed_in(new_page, sign_in, visits, "supervisor")
    for url in ["/tickets/?queue=queue", ticket.get_absolute_url(), "/notifications/"]:
        visits.open(supervisor, url)

    public = visits.watch(new_page(bypass_csp=True))
    visits.open(public, f"/service/{ticket.public_token}/")

    assert not visits.problems, "\n".join(visits.problems)
    assert not visits.images, f"the payload image was requested: {visits.images}"
    fields = world.payloads.fields
    # What no page shows at all is no risk, but what a person typed should show somewhere.
    hidden = sorted({fields[key] for key in fields} - {fields[key] for key in visits.seen})
    required = {
        "customer.name",
        "customer.notes",
        "customer.city",
        "customer.district",
        "customer.address",
        "customer.custom_data.licence",
        "contact.name",
        "contact.title",
        "followuptask.title",
        "followuptask.content",
        "followuprecord.topic",
        "followuprecord.summary",
        "followuprecord.feedback",
        "followuprecord.next_step",
        "followupplan.content_points",
        "opportunity.name",
        "opportunity.next_step",
        "opportunity.lost_note",
        "competitor.name",
        "competitor.strengths",
        "competitor.weaknesses",
        "objection.description",
        "objection.solution",
        "objection.customer_response",
        "opportunityline.product",
        "order.notes",
        "instalment.note",
        "receipt.reference",
        "ticket.subject",
        "ticket.description",
        "ticketmessage.body",
        "collaborator.task",
        "delayexplanation.reason",
        "approvalrequest.reason",
        "notification.title",
    }
    assert not required & set(hidden), f"never shown as text: {sorted(required & set(hidden))}"
