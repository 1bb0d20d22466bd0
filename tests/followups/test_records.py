"""A record completes its task, schedules the plan's next one, turns commitments into tasks and
refuses a vague next step; transfers and reschedules follow the ownership rules."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.core.models import Attachment
from crm.notifications.models import Notification
from customers.models import CustomerCategory
from customers.services import customer_create
from followups.forms import RecordForm, is_vague
from followups.models import (
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Stage,
    TaskTransfer,
)
from followups.services import (
    plan_create,
    record_create,
    task_create,
    task_reschedule,
    task_transfer,
)


@pytest.fixture
def alices_customer(alice):
    return customer_create(
        by=alice,
        owner=alice,
        name="杭州示例科技有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )


SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def phone(db):
    return FollowUpMethod.objects.get(code="phone")


def make_plan(customer, owner, **fields):
    return plan_create(
        customer=customer,
        owner=owner,
        by=owner,
        stage=Stage.INITIAL_CONTACT,
        starts_on=datetime.date(2026, 3, 2),
        time_of_day=datetime.time(10, 0),
        **{"cadence": FollowUpPlan.Cadence.WEEKLY, **fields},
    )


def record_fields(phone, **fields):
    return {
        "occurred_at": NOW,
        "method": phone,
        "topic": "首次电话沟通",
        "summary": "介绍了产品，客户有采购意向",
        "feedback": "希望下周拿到报价",
        "next_step": "发送 200 台的报价单",
        "next_step_at": NOW + datetime.timedelta(days=3),
        **fields,
    }


def test_a_record_completes_its_task(alice, alices_customer, phone):
    plan = make_plan(alices_customer, alice)
    task = plan.tasks.earliest("due_at")
    record = record_create(customer=alices_customer, by=alice, task=task, **record_fields(phone))
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE
    assert task.completed_at == NOW
    assert record.task == task
    assert record.owner == alice


def test_the_plans_next_task_is_scheduled_from_the_record_time(alice, alices_customer, phone):
    # Every 40 days: beyond the 30-day horizon, so only recording the first makes the next.
    plan = make_plan(alices_customer, alice, cadence=FollowUpPlan.Cadence.CUSTOM, interval_days=40)
    task = plan.tasks.get()
    record_create(customer=alices_customer, by=alice, task=task, **record_fields(phone))
    following = plan.tasks.pending().get()
    assert following.due_at == NOW + datetime.timedelta(days=40)
    assert following.kind == FollowUpTask.Kind.PLAN


def test_a_record_keeps_the_already_generated_next_task(alice, alices_customer, phone):
    plan = make_plan(alices_customer, alice)
    task = plan.tasks.earliest("due_at")
    record_create(customer=alices_customer, by=alice, task=task, **record_fields(phone))
    assert plan.tasks.pending().count() == 4
    assert plan.tasks.count() == 5


def test_commitments_become_tasks(alice, alices_customer, phone):
    due = NOW + datetime.timedelta(days=2)
    record = record_create(
        customer=alices_customer,
        by=alice,
        commitments=[("寄送样品", due), ("安排技术交流", due + datetime.timedelta(days=5))],
        **record_fields(phone),
    )
    commitment = record.commitments.get(description="寄送样品")
    assert commitment.task.kind == FollowUpTask.Kind.COMMITMENT
    assert commitment.task.due_at == due
    assert commitment.task.owner == alice
    assert commitment.task.status == FollowUpTask.Status.PENDING
    assert FollowUpTask.objects.filter(kind=FollowUpTask.Kind.COMMITMENT).count() == 2


def test_evidence_files_are_attached_to_the_record(alice, alices_customer, phone):
    upload = SimpleUploadedFile("通话纪要.txt", "客户确认需求".encode(), "text/plain")
    record = record_create(
        customer=alices_customer, by=alice, attachments=[upload], **record_fields(phone)
    )
    assert Attachment.objects.for_object(record).get().original_name == "通话纪要.txt"


def test_a_done_task_cannot_be_recorded_twice(alice, alices_customer, phone):
    task = task_create(customer=alices_customer, owner=alice, by=alice, title="回访", due_at=NOW)
    record_create(customer=alices_customer, by=alice, task=task, **record_fields(phone))
    with pytest.raises(ValidationError):
        record_create(customer=alices_customer, by=alice, task=task, **record_fields(phone))


@pytest.mark.parametrize(
    "next_step",
    ["再联系", "保持联系", "待定", "跟进", "看情况", "TBD", "follow up", "好的", "  跟进。 "],
)
def test_vague_next_steps_are_recognised(next_step):
    assert is_vague(next_step)


@pytest.mark.parametrize("next_step", ["发送报价单", "预约周三上门演示", "send the quotation"])
def test_concrete_next_steps_pass(next_step):
    assert not is_vague(next_step)


def test_the_form_refuses_a_next_step_in_the_past(phone):
    data = {**record_fields(phone), "method": phone.pk}
    data["next_step_at"] = NOW - datetime.timedelta(hours=1)
    form = RecordForm(data=data)
    assert not form.is_valid()
    assert "next_step_at" in form.errors


def test_a_vague_next_step_is_refused_with_a_form_error_and_nothing_saved(
    client, alice, alices_customer, phone
):
    task = task_create(customer=alices_customer, owner=alice, by=alice, title="回访", due_at=NOW)
    client.force_login(alice)
    response = client.post(
        reverse("followups:task_record", args=[task.pk]),
        {
            "occurred_at": "2026-03-02 10:30",
            "method": phone.pk,
            "topic": "回访",
            "summary": "客户暂时没有预算",
            "next_step": "再联系",
            "next_step_at": "2026-03-09 10:00",
            "commitments-TOTAL_FORMS": "2",
            "commitments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "next_step" in response.context["form"].errors
    assert FollowUpRecord.objects.count() == 0
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.PENDING


class TestTransfer:
    @pytest.fixture
    def task(self, alice, alices_customer):
        return task_create(
            customer=alices_customer, owner=alice, by=alice, title="回访", due_at=NOW
        )

    def test_the_owner_transfers_with_a_reason_and_the_colleague_is_notified(
        self, task, alice, bob
    ):
        task_transfer(task=task, to_user=bob, by=alice, reason="出差一周")
        task.refresh_from_db()
        assert task.owner == bob
        transfer = TaskTransfer.objects.get()
        assert (transfer.from_user, transfer.to_user, transfer.by) == (alice, bob, alice)
        assert transfer.reason == "出差一周"
        assert Notification.objects.filter(recipient=bob, verb="followup_task_transferred").exists()

    def test_the_owners_manager_transfers(self, task, manager, bob):
        task_transfer(task=task, to_user=bob, by=manager, reason="重新分工")
        task.refresh_from_db()
        assert task.owner == bob

    def test_a_colleague_may_not_transfer(self, task, bob):
        with pytest.raises(PermissionDenied):
            task_transfer(task=task, to_user=bob, by=bob, reason="我来")
        task.refresh_from_db()
        assert task.owner_id != bob.pk

    def test_a_rep_of_another_team_may_not_transfer(self, task, charlie):
        with pytest.raises(PermissionDenied):
            task_transfer(task=task, to_user=charlie, by=charlie, reason="我来")


class TestReschedule:
    def test_the_owner_reschedules_and_the_reminder_is_due_again(self, alice, alices_customer):
        task = task_create(
            customer=alices_customer,
            owner=alice,
            by=alice,
            title="回访",
            due_at=NOW,
            reminder_minutes=30,
        )
        task.reminded_at = NOW
        task.save()
        later = NOW + datetime.timedelta(days=2)
        task_reschedule(task=task, due_at=later, by=alice)
        task.refresh_from_db()
        assert task.due_at == later
        assert task.remind_at == later - datetime.timedelta(minutes=30)
        assert task.reminded_at is None

    def test_even_the_manager_may_not_reschedule_someone_elses_task(
        self, alice, manager, alices_customer
    ):
        task = task_create(
            customer=alices_customer, owner=alice, by=alice, title="回访", due_at=NOW
        )
        with pytest.raises(PermissionDenied):
            task_reschedule(task=task, due_at=NOW + datetime.timedelta(days=1), by=manager)
