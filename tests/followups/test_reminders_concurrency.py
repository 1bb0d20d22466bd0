"""Two workers running the overdue sweep at the same moment: every task's owner is told once.

Real transactions and real threads against Postgres: the conditional-update claim and the
unique reminder row are what stop the second worker, and SQLite's single writer could not show
the race they prevent.
"""

import datetime
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection, connections

from crm.accounts.roles import Role
from crm.notifications.models import Notification
from customers.models import CustomerCategory
from customers.services import customer_create
from followups import reminders
from followups.models import FollowUpTask, Reminder
from tests.factories import TeamFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres: row locks between concurrent transactions (SQLite has one writer)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

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


def sweep_from_threads(*, workers: int = 2) -> tuple[list[int], list[BaseException]]:
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work() -> None:
        try:
            start.wait()
            counts.append(reminders.remind_overdue_tasks(now=NOW))
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return counts, errors


def test_two_workers_send_each_overdue_reminder_once(overdue_tasks):
    counts, errors = sweep_from_threads()

    assert errors == []
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
