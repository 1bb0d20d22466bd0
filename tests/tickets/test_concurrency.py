"""Real transactions and threads against Postgres: concurrent creations never hand two tickets
to the same turn of the rotation, and two workers running the SLA sweep announce each breach
once. SQLite's single writer could not show the races the row locks prevent."""

import datetime
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from crm.notifications.models import Notification
from tickets import escalation
from tickets.models import Ticket

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres: row locks between concurrent transactions (SQLite has one writer)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WORKERS = 6


def run_in_threads(work: Callable[[], object], workers: int) -> tuple[list, list]:
    results: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, errors


def test_concurrent_creations_take_turns(monday, make_ticket, agent, agent2):
    _results, errors = run_in_threads(make_ticket, WORKERS)
    assert errors == []
    tickets = Ticket.objects.all()
    assert tickets.count() == WORKERS
    assert len({ticket.number for ticket in tickets}) == WORKERS
    # Round-robin under the queue lock: an exact half each, never one turn given twice.
    assert Counter(ticket.assignee_id for ticket in tickets) == {agent.pk: 3, agent2.pk: 3}


def test_two_workers_escalate_each_breach_once(monday, make_ticket, agent, supervisor):
    tickets = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(10)]
    monday.move_to(tickets[0].first_response_due + datetime.timedelta(minutes=5))
    now = tickets[0].first_response_due + datetime.timedelta(minutes=5)
    results, errors = run_in_threads(lambda: escalation.sla_sweep(now=now), 2)
    assert errors == []
    assert sum(results) == 10
    told = Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached")
    assert told.count() == 10
    assert len({notification.target_id for notification in told}) == 10
