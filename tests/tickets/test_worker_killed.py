"""The pool process running the SLA sweep is killed (SIGKILL: the kernel's OOM killer, say) in
the middle of it: the worker queues the task again at once (``task_reject_on_worker_lost``,
with ``task_acks_late``), a fresh pool process runs the sweep again, and every breach reaches
the department head exactly once.

The sweep is caught half-way deterministically: the test holds a lock on the row of the ticket
in the middle of the due order, so the sweep waits there with the earlier breaches announced
(it commits a chunk at a time: small chunks here, so the first half is whole chunks).
"""

import datetime
import os
import signal

import pytest
import redis
from django.utils import timezone

from crm.notifications.models import Notification
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
from tickets import tasks
from tickets.models import Ticket, TicketEvent

pytestmark = [*needs_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TICKETS = 20
CHUNK = 5  # TICKETS // 2 is a whole number of chunks
WORKER_ENV = {
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "SWEEP_CHUNK_SIZE": str(CHUNK),
}


@pytest.fixture
def breached(make_ticket, agent, supervisor) -> list[Ticket]:
    tickets = [make_ticket() for _ in range(TICKETS)]
    now = timezone.now()
    for index, ticket in enumerate(tickets):
        # Due one after another in creation order: the sweep takes them in that order.
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_due=now - datetime.timedelta(minutes=TICKETS + 5 - index)
        )
    return tickets


@pytest.fixture
def worker_broker(settings):
    with sending_to_worker(settings):
        yield


def breaches() -> int:
    return TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH).count()


def test_a_pool_process_killed_mid_sweep_has_the_sweep_run_again(
    breached, supervisor, worker_broker
):
    halfway = breached[TICKETS // 2]
    with running_worker(env=WORKER_ENV) as worker:
        with row_locked(Ticket, halfway.pk) as lock:
            tasks.sla_sweep.delay()
            wait_until_blocked(lock, worker)
            done_before_the_kill = breaches()
            (pool_process,) = worker.pool_pids()
            os.kill(pool_process, signal.SIGKILL)
        finished = wait_for(
            lambda: (
                breaches() == TICKETS
                and not Notification.objects.filter(emailed_at__isnull=True).exists()
            ),
            worker,
        )
    assert done_before_the_kill == TICKETS // 2, "the sweep was not caught half-way"
    assert finished, f"the sweep was not run again; log:\n{worker.output[-4000:]}"

    assert not Ticket.objects.filter(response_breached_at__isnull=True).exists()
    events = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH)
    assert sorted(events.values_list("ticket_id", flat=True)) == sorted(t.pk for t in breached)
    told = Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached")
    assert sorted(told.values_list("target_id", flat=True)) == sorted(t.pk for t in breached)
    assert unacknowledged(redis.Redis.from_url(redis_url())) == []
