"""A worker killed outright (SIGKILL to the worker and its pool: the container or machine lost)
in the middle of the overdue sweep: the task it held stays unacknowledged on Redis, goes back to
the queue when the visibility timeout runs out, and the next worker runs the sweep again, which
finishes the work: every task's owner is told once, none twice, none never.

The sweep is caught half-way deterministically: the test holds a lock on the middle task's row,
so the sweep (which works in primary-key order, a chunk per transaction: small chunks here, so
the first half is whole chunks) waits there with the first half done.
"""

import datetime
import time

import pytest
import redis
from django.utils import timezone

from crm.accounts.roles import Role
from crm.notifications.models import Notification
from customers.models import CustomerCategory
from customers.services import customer_create
from followups import tasks
from followups.models import FollowUpTask, Reminder
from tests.factories import TeamFactory, UserFactory
from tests.worker import (
    needs_worker,
    redis_url,
    row_locked,
    running_worker,
    sending_to_worker,
    unacknowledged,
    wait_for,
    wait_until_blocked,
)

pytestmark = [*needs_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TASKS = 30
VISIBILITY_SECONDS = 5
CHUNK = 5  # TASKS // 2 is a whole number of chunks
WORKER_ENV = {
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    "SWEEP_CHUNK_SIZE": str(CHUNK),
    # The worker's mail stays in its memory: SMTP is the one thing that leaves the machine.
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


@pytest.fixture
def overdue_tasks() -> list[FollowUpTask]:
    team = TeamFactory(name="断电提醒组")
    owners = [
        UserFactory(username=f"killed{number}", team=team, role=Role.SALES_REP)
        for number in range(3)
    ]
    category = CustomerCategory.objects.get(name="企业客户")
    customers = [
        customer_create(by=owner, owner=owner, name=f"断电客户{index}", category=category)
        for index, owner in enumerate(owners)
    ]
    now = timezone.now()
    return [
        FollowUpTask.objects.create(
            customer=customers[index % 3],
            owner=owners[index % 3],
            title=f"断电逾期任务{index}",
            due_at=now - datetime.timedelta(hours=1, minutes=index),
        )
        for index in range(TASKS)
    ]


@pytest.fixture
def worker_broker(settings):
    with sending_to_worker(settings):
        yield


def overdue_reminders() -> int:
    return Reminder.objects.filter(kind=Reminder.Kind.OVERDUE).count()


def test_the_next_worker_finishes_the_sweep_a_killed_worker_left_half_done(
    overdue_tasks, worker_broker
):
    broker = redis.Redis.from_url(redis_url())
    halfway = overdue_tasks[TASKS // 2]
    with running_worker(env=WORKER_ENV) as first, row_locked(FollowUpTask, halfway.pk) as lock:
        tasks.remind_overdue_tasks.delay()
        wait_until_blocked(lock, first)
        taken_at = time.monotonic()
        done_before_the_kill = overdue_reminders()
        first.kill()
    assert done_before_the_kill == TASKS // 2, "the sweep was not caught half-way"
    # Acknowledged late: the killed worker's sweep is still on the broker, unacknowledged.
    assert unacknowledged(broker) == ["followups.tasks.remind_overdue_tasks"]
    # Redis hands it out again once it has been unacknowledged for the visibility timeout.
    time.sleep(max(0.0, VISIBILITY_SECONDS + 1 - (time.monotonic() - taken_at)))

    with running_worker(flush=False, env=WORKER_ENV) as second:
        finished = wait_for(
            lambda: (
                overdue_reminders() == TASKS
                and not Notification.objects.filter(emailed_at__isnull=True).exists()
            ),
            second,
        )
    assert finished, f"the sweep was not finished; log:\n{second.output[-4000:]}"

    assert not FollowUpTask.objects.filter(overdue_notified_at__isnull=True).exists()
    told = Notification.objects.filter(verb="followup_overdue")
    assert sorted(told.values_list("target_id", flat=True)) == sorted(
        task.pk for task in overdue_tasks
    )
    assert all(notification.recipient_id for notification in told)
    assert {(task.pk, task.owner_id) for task in overdue_tasks} == set(
        told.values_list("target_id", "recipient_id")
    )
    # Nothing left behind on the broker either.
    assert unacknowledged(broker) == []
    assert broker.llen("celery") == 0
