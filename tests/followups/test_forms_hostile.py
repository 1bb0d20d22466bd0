"""Hostile posts to the follow-up forms: recording a follow-up (for a task or for a customer,
with its commitments), planning, and rescheduling a task. Whatever arrives, the answer is a
saved record or a form error the user sees, never a 500; nothing changes unless it saved, and
whatever was saved still renders on the pages that show it."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from customers.models import Customer, CustomerCategory
from customers.services import customer_create
from followups.forms import CommitmentFormSet, PlanForm, RecordForm, RescheduleForm
from followups.models import (
    Commitment,
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Stage,
)
from tests.hostile import HOSTILE, explained, field_map, hostile_post, rows, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(alice) -> Customer:
    return customer_create(
        by=alice,
        owner=alice,
        name="跟进表单测试有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )


@pytest.fixture
def alices_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def new_task(customer: Customer) -> FollowUpTask:
    return FollowUpTask.objects.create(
        customer=customer,
        owner=customer.owner,
        title="电话回访",
        due_at=timezone.now() + datetime.timedelta(hours=2),
    )


def followups() -> list:
    return rows(
        FollowUpRecord.objects.all(),
        FollowUpTask.objects.all(),
        Commitment.objects.all(),
        FollowUpPlan.objects.all(),
    )


def pages_render(client: Client, customer: Customer) -> None:
    """What was saved shows on the pages that list it."""
    for url in (
        customer.get_absolute_url(),
        reverse("customers:panel", args=[customer.pk, "followups"]),
        reverse("followups:list"),
        reverse("followups:calendar"),
        reverse("home"),
    ):
        assert client.get(url).status_code == 200, url


def valid_record() -> dict:
    now = timezone.localtime()
    return {
        "occurred_at": now.strftime("%Y-%m-%d %H:%M"),
        "method": FollowUpMethod.objects.get(code="phone").pk,
        "our_participants": "张三",
        "their_participants": "王经理",
        "topic": "电话回访",
        "summary": "客户确认了需求",
        "feedback": "对价格满意",
        "next_step": "发送正式合同草案",
        "next_step_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "commitments-TOTAL_FORMS": "2",
        "commitments-INITIAL_FORMS": "0",
        "commitments-0-description": "寄送样品",
        "commitments-0-due_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
    }


@HOSTILE
@given(data=st.data())
def test_recording_a_follow_up_never_fails(alices_client, customer, data):
    task = new_task(customer) if data.draw(st.booleans(), label="for a task") else None
    url = (
        reverse("followups:task_record", args=[task.pk])
        if task
        else reverse("followups:record_create") + f"?customer={customer.pk}"
    )
    fields = field_map(RecordForm(task=task), CommitmentFormSet(prefix="commitments"))
    post = data.draw(hostile_post(valid_record(), fields))
    before = followups()

    response = send(alices_client, url, post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event("saved" if saved else "refused")
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, customer)
    else:
        assert followups() == before


def valid_plan(alice) -> dict:  # type: ignore[no-untyped-def]
    return {
        "stage": Stage.INITIAL_CONTACT,
        "cadence": FollowUpPlan.Cadence.WEEKLY,
        "interval_days": "",
        "method": FollowUpMethod.objects.get(code="phone").pk,
        "content_points": "介绍新产品",
        "owner": alice.pk,
        "reminder_minutes": "60",
        "starts_on": timezone.localdate().isoformat(),
        "time_of_day": "10:00",
        "is_active": "on",
    }


@HOSTILE
@given(data=st.data())
def test_planning_never_fails(alice, alices_client, customer, data):
    fields = field_map(PlanForm(user=alice))
    post = data.draw(hostile_post(valid_plan(alice), fields))
    before = followups()

    response = send(
        alices_client, reverse("followups:plan_create") + f"?customer={customer.pk}", post
    )

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event("saved" if saved else "refused")
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, customer)
    else:
        assert followups() == before


@HOSTILE
@given(data=st.data())
def test_rescheduling_never_fails(alices_client, customer, data):
    task = new_task(customer)
    htmx = data.draw(st.booleans(), label="from the calendar")
    later = timezone.localtime() + datetime.timedelta(days=3)
    valid = {"date": later.date().isoformat(), "due_at": later.strftime("%Y-%m-%d %H:%M")}
    post = data.draw(hostile_post(valid, field_map(RescheduleForm())))
    before = rows(FollowUpTask.objects.all())

    response = send(
        alices_client,
        reverse("followups:reschedule", args=[task.pk]),
        post,
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert response.status_code in (204, 302, 400, 409)
    saved = FollowUpTask.objects.get(pk=task.pk).due_at != task.due_at
    event(f"{'calendar' if htmx else 'task page'}: {'saved' if saved else 'refused'}")
    if response.status_code in (400, 409):
        assert response.content, "a refusal without a message"
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, customer)
    else:
        assert rows(FollowUpTask.objects.all()) == before


# --- what the properties found, pinned -------------------------------------------------------


def test_an_empty_reschedule_from_the_task_page_says_why(alices_client, customer):
    task = new_task(customer)

    response = send(alices_client, reverse("followups:reschedule", args=[task.pk]), {})

    assert response.status_code == 302  # back to the task page, which shows the message
    assert explained(response, saved=False)
    htmx = alices_client.post(
        reverse("followups:reschedule", args=[task.pk]), {}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 400
    assert htmx.content.decode()


def test_too_many_commitments_are_explained_on_the_form(alices_client, customer):
    response = send(
        alices_client,
        reverse("followups:record_create") + f"?customer={customer.pk}",
        # Past the formset's absolute maximum: refused as a whole, with a non-form error.
        {**valid_record(), "commitments-TOTAL_FORMS": "2000"},
    )

    assert response.status_code == 200
    assert explained(response, saved=False)
    assert not FollowUpRecord.objects.exists()


def test_a_commitment_longer_than_a_task_title_is_explained_on_the_form(alices_client, customer):
    """Found by the property above: 300 characters passed the form and broke the task's
    200-character title, a 500."""
    response = send(
        alices_client,
        reverse("followups:record_create") + f"?customer={customer.pk}",
        {**valid_record(), "commitments-0-description": "寄" * 201},
    )

    assert response.status_code == 200
    assert explained(response, saved=False)
    assert not FollowUpRecord.objects.exists()
