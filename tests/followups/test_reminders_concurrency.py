"""Two workers running each follow-up sweep at the same moment (overdue, before the task, no
contact, birthdays, contract expiry, maintenance tasks, plan extension): every reminder goes out
once and every task is created once.

Real transactions and real threads against Postgres: the conditional-update claim and the
unique reminder row are what stop the second worker, and SQLite's single writer could not show
the race they prevent.
"""

import datetime
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from crm.accounts.roles import Role
from crm.notifications.models import Notification
from customers.models import Contact, Customer, CustomerCategory, Tier
from customers.services import customer_create
from followups import reminders, services
from followups.models import FollowUpPlan, FollowUpTask, Reminder, Stage
from followups.services import plan_create
from tests.concurrency import at_once, needs_postgres
from tests.factories import TeamFactory, UserFactory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NOW = datetime.datetime(2026, 3, 2, 2, 30, tzinfo=datetime.UTC)
TASKS = 50
OWNERS = 5


@pytest.fixture
def overdue_tasks() -> list[FollowUpTask]:
    team = TeamFactory(name="并发提醒组")
    owners = [
        UserFactory(username=f"owner{number}", team=team, role=Role.SALES_REP)
        for number in range(OWNERS)
    ]
    category = CustomerCategory.objects.get(name="企业客户")
    customers = [
        customer_create(by=owner, owner=owner, name=f"并发客户{index}", category=category)
        for index, owner in enumerate(owners)
    ]
    return [
        FollowUpTask.objects.create(
            customer=customers[index % OWNERS],
            owner=owners[index % OWNERS],
            title=f"逾期任务{index}",
            due_at=NOW - datetime.timedelta(hours=1, minutes=index),
        )
        for index in range(TASKS)
    ]


def test_two_workers_send_each_overdue_reminder_once(overdue_tasks):
    counts = at_once(lambda: reminders.remind_overdue_tasks(now=NOW))

    assert sum(counts) == TASKS
    assert Reminder.objects.filter(kind=Reminder.Kind.OVERDUE).count() == TASKS
    per_task = Counter(
        Notification.objects.filter(verb="followup_overdue").values_list(
            "recipient_id", "target_id"
        )
    )
    assert per_task == {(task.owner_id, task.pk): 1 for task in overdue_tasks}
    assert len(mail.outbox) == TASKS
    assert not FollowUpTask.objects.filter(overdue_notified_at__isnull=True).exists()
    assert reminders.remind_overdue_tasks(now=NOW) == 0


# --- every other follow-up sweep, two workers at once ---------------------------------------------

DAY = datetime.timedelta(days=1)
TARGETS = 12


@pytest.fixture
def alices_customers(alice, manager) -> list:
    category = CustomerCategory.objects.get(name="企业客户")
    return [
        customer_create(by=alice, owner=alice, name=f"并发跟进客户{index}", category=category)
        for index in range(TARGETS)
    ]


def told(verb: str) -> Counter:
    """(recipient, target) → how many notifications of ``verb`` they got."""
    return Counter(Notification.objects.filter(verb=verb).values_list("recipient_id", "target_id"))


def test_two_workers_remind_before_each_task_once(alice, alices_customers):
    tasks = [
        FollowUpTask.objects.create(
            customer=customer,
            owner=alice,
            title="并发提前提醒",
            due_at=NOW + datetime.timedelta(minutes=30),
            remind_at=NOW - datetime.timedelta(minutes=30),
        )
        for customer in alices_customers
    ]

    counts = at_once(lambda: reminders.remind_before_tasks(now=NOW))

    assert sum(counts) == TARGETS
    assert told("followup_before_task") == {(alice.pk, task.pk): 1 for task in tasks}
    assert len(mail.outbox) == TARGETS
    assert reminders.remind_before_tasks(now=NOW) == 0


def test_two_workers_warn_of_each_uncontacted_customer_once(alice, manager, alices_customers):
    Customer.objects.filter(pk__in=[c.pk for c in alices_customers]).update(
        assigned_at=NOW - 3 * DAY - datetime.timedelta(hours=1)
    )

    counts = at_once(lambda: reminders.warn_no_contact(now=NOW))

    assert sum(counts) == 2 * TARGETS  # the owner and her team head
    assert told("followup_no_contact") == {
        (user.pk, customer.pk): 1 for customer in alices_customers for user in (alice, manager)
    }
    assert reminders.warn_no_contact(now=NOW) == 0


def test_two_workers_remind_of_each_birthday_once(alice, alices_customers):
    in_two_days = (NOW + 2 * DAY).date()
    contacts = [
        Contact.objects.create(
            customer=customer, name=f"寿星{index}", birthday=in_two_days.replace(year=1980)
        )
        for index, customer in enumerate(alices_customers)
    ]

    counts = at_once(lambda: reminders.remind_birthdays(now=NOW))

    assert sum(counts) == TARGETS
    assert told("followup_birthday") == {(alice.pk, contact.pk): 1 for contact in contacts}
    assert reminders.remind_birthdays(now=NOW) == 0


def test_two_workers_remind_of_each_expiring_contract_once(alice, alices_customers):
    ends_on = (NOW + 20 * DAY).date()

    def contracts(start, end):  # type: ignore[no-untyped-def]
        return [
            (customer.pk, 900 + index, ends_on, f"HT{index:04d}")
            for index, customer in enumerate(alices_customers)
        ]

    reminders.register_contract_source(contracts)
    try:
        counts = at_once(lambda: reminders.remind_contract_expiry(now=NOW))
        assert reminders.remind_contract_expiry(now=NOW) == 0
    finally:
        reminders.unregister_contract_source(contracts)

    assert sum(counts) == TARGETS
    assert told("followup_contract_expiry") == {
        (alice.pk, customer.pk): 1 for customer in alices_customers
    }


def test_two_workers_create_each_maintenance_task_once(alice, alices_customers):
    Customer.objects.filter(pk__in=[c.pk for c in alices_customers]).update(
        type=Customer.Type.WON, value_tier=Tier.MEDIUM, created_at=NOW - 400 * DAY
    )

    counts = at_once(lambda: reminders.create_maintenance_tasks(now=NOW))

    assert sum(counts) == TARGETS
    maintenance = FollowUpTask.objects.filter(kind=FollowUpTask.Kind.MAINTENANCE)
    assert Counter(maintenance.values_list("customer_id", flat=True)) == {
        customer.pk: 1 for customer in alices_customers
    }
    assert len(told("followup_maintenance")) == TARGETS
    assert reminders.create_maintenance_tasks(now=NOW) == 0


def test_two_workers_extending_plans_create_each_slot_once(alice, alices_customers):
    plans = [
        plan_create(
            customer=customer,
            owner=alice,
            by=alice,
            stage=Stage.INITIAL_CONTACT,
            cadence=FollowUpPlan.Cadence.WEEKLY,
            starts_on=timezone.localdate(),
        )
        for customer in alices_customers
    ]
    # A month later the horizon has moved on: every plan has slots to fill.
    later = timezone.now() + 30 * DAY

    at_once(lambda: services.plans_extend(now=later))

    for plan in plans:
        slots = services.plan_slots(plan, start=later, end=later + services.HORIZON)
        due = list(plan.tasks.filter(due_at__gte=later).values_list("due_at", flat=True))
        assert sorted(due) == sorted(slots), f"plan {plan.pk}: {sorted(due)} != {sorted(slots)}"
    assert services.plans_extend(now=later) == 0
