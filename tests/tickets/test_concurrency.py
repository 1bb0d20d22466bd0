"""Real transactions and threads against Postgres: concurrent creations never hand two tickets
to the same turn of the rotation; two workers running the SLA sweep announce each warning and
each breach once; two survey sweeps (or a sweep and the after-commit kicks) mail each survey
once. SQLite's single writer could not show the races the row locks prevent."""

import datetime
from collections import Counter
from functools import partial

import pytest
from django.core import mail
from django.utils import timezone

from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from customers.models import CustomerCategory
from customers.services import customer_create
from tests.concurrency import at_once, needs_postgres
from tickets import escalation, surveys
from tickets.models import Survey, Ticket, TicketEvent

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WORKERS = 6


def test_concurrent_creations_take_turns(monday, make_ticket, agent, agent2):
    at_once(make_ticket, workers=WORKERS)
    tickets = Ticket.objects.all()
    assert tickets.count() == WORKERS
    assert len({ticket.number for ticket in tickets}) == WORKERS
    # Round-robin under the queue lock: an exact half each, never one turn given twice.
    assert Counter(ticket.assignee_id for ticket in tickets) == {agent.pk: 3, agent2.pk: 3}


def test_two_workers_escalate_each_breach_once(monday, make_ticket, agent, supervisor):
    tickets = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(10)]
    monday.move_to(tickets[0].first_response_due + datetime.timedelta(minutes=5))
    now = tickets[0].first_response_due + datetime.timedelta(minutes=5)
    results = at_once(lambda: escalation.sla_sweep(now=now))
    assert sum(results) == 10
    told = Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached")
    assert told.count() == 10
    assert len({notification.target_id for notification in told}) == 10


def test_two_workers_warn_of_each_near_deadline_once(monday, make_ticket, agent):
    tickets = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(10)]
    now = tickets[0].first_response_due - datetime.timedelta(minutes=20)  # warned 30 min ahead
    monday.move_to(now)

    results = at_once(lambda: escalation.sla_sweep(now=now))

    assert sum(results) == 10
    warned = Notification.objects.filter(recipient=agent, verb="ticket_sla_warning")
    assert Counter(warned.values_list("target_id", flat=True)) == {t.pk: 1 for t in tickets}
    assert escalation.sla_sweep(now=now) == 0


# --- survey dispatch ---------------------------------------------------------------------------

SURVEYS = 12


@pytest.fixture
def nps_due(alice) -> tuple[list[Survey], datetime.datetime]:
    """NPS surveys of won customers, due a week after the deal: only the sweep sends them."""
    won_at = timezone.now() - datetime.timedelta(days=8)
    category = CustomerCategory.objects.get(name="企业客户")
    due = []
    for index in range(SURVEYS):
        customer = customer_create(
            by=alice,
            owner=alice,
            name=f"并发问卷客户{index}",
            category=category,
            contacts=[{"name": f"联系人{index}", "email": f"nps{index}@example.cn"}],
        )
        due.append(surveys.nps_request(customer=customer, won_at=won_at))
    return due, timezone.now()


def mailed_tokens() -> Counter:
    return Counter(
        survey.token
        for survey in Survey.objects.all()
        for message in mail.outbox
        if survey.token in message.body
    )


def test_two_workers_send_each_due_survey_once(nps_due):
    due, now = nps_due
    mail.outbox.clear()

    results = at_once(lambda: surveys.surveys_send_due(now=now))

    assert sum(results) == SURVEYS
    assert len(mail.outbox) == SURVEYS
    assert mailed_tokens() == {survey.token: 1 for survey in due}
    assert not Survey.objects.filter(sent_at__isnull=True).exists()
    assert surveys.surveys_send_due(now=now) == 0


def test_the_sweep_and_the_after_commit_kicks_send_each_survey_once(nps_due):
    """The sweep finds surveys whose kick is still on its way: whichever claims one sends it."""
    due, now = nps_due
    mail.outbox.clear()

    def kicks() -> int:
        return sum(surveys.survey_send(survey_id=survey.pk, now=now) for survey in due)

    results = at_once(lambda: surveys.surveys_send_due(now=now), kicks)

    assert sum(results) == SURVEYS
    assert mailed_tokens() == {survey.token: 1 for survey in due}


# --- a thousand at once ------------------------------------------------------------------------

TICKETS = 1000
AGENTS_AT_THE_PHONES = 8


def test_a_thousand_concurrent_tickets_lose_nothing_and_share_no_number(
    monday, make_ticket, agent, agent2
):
    def desk(indexes: range) -> list[tuple[int, str]]:
        created = []
        for index in indexes:
            ticket = make_ticket(contact_name=f"来电客户{index}", subject=f"并发工单{index:04d}")
            created.append((ticket.pk, ticket.number))
        return created

    results = at_once(
        *[
            partial(desk, range(start, TICKETS, AGENTS_AT_THE_PHONES))
            for start in range(AGENTS_AT_THE_PHONES)
        ]
    )

    returned = [row for rows in results for row in rows]
    assert len(returned) == TICKETS
    saved = dict(Ticket.objects.values_list("pk", "number"))
    assert saved == dict(returned), "a ticket the service returned is missing or renumbered"
    assert sorted(saved.values()) == sorted(
        f"GW20260302{sequence:03d}" for sequence in range(1, TICKETS + 1)
    )
    # Dispatch under the queue lock: the rotation never skips or repeats a turn.
    assert Counter(Ticket.objects.values_list("assignee_id", flat=True)) == {
        agent.pk: TICKETS // 2,
        agent2.pk: TICKETS // 2,
    }
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).count() == TICKETS
    assert DomainEvent.objects.filter(name="ticket.created").count() == TICKETS
