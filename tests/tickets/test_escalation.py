"""The SLA sweep: a warning to the assignee before a deadline, and on a breach the department
head is told and ``ticket.sla_breached`` emitted — each once, however often the sweep runs."""

import datetime

import pytest

from crm.core.models import CompanySettings, DomainEvent
from crm.notifications.models import Notification
from tickets import escalation, services
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_it_warns_the_assignee_once_before_the_first_response_deadline(monday, make_ticket, agent):
    ticket = make_ticket(priority=Ticket.Priority.URGENT)  # respond by 12:00, warn 30 min before
    monday.move_to(ticket.first_response_due - datetime.timedelta(minutes=45))
    assert escalation.sla_sweep(now=now()) == 0
    monday.move_to(ticket.first_response_due - datetime.timedelta(minutes=20))
    assert escalation.sla_sweep(now=now()) == 1
    assert escalation.sla_sweep(now=now()) == 0
    assert Notification.objects.filter(recipient=agent, verb="ticket_sla_warning").count() == 1


def test_a_breach_reaches_the_department_head_once_and_emits_the_event(
    monday, make_ticket, agent, supervisor
):
    ticket = make_ticket(priority=Ticket.Priority.URGENT)
    monday.move_to(ticket.first_response_due + datetime.timedelta(minutes=1))
    escalation.sla_sweep(now=now())
    escalation.sla_sweep(now=now())
    assert (
        Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached").count() == 1
    )
    assert Notification.objects.filter(recipient=agent, verb="ticket_sla_breached").count() == 1
    breaches = DomainEvent.objects.filter(name="ticket.sla_breached", object_id=ticket.pk)
    assert breaches.count() == 1
    assert breaches.get().payload["deadline"] == "response"
    assert ticket.events.filter(kind=TicketEvent.Kind.SLA_BREACH).count() == 1


def test_a_run_works_through_every_page_and_past_deadlines_do_not_starve_the_warnings(
    monday, make_ticket, agent, monkeypatch
):
    monkeypatch.setattr(escalation, "BATCH", 2)
    late = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(3)]
    monday.move_to(late[0].first_response_due + datetime.timedelta(minutes=1))
    assert escalation.escalate_breaches(now()) == 3  # two pages of two in one run
    assert escalation.escalate_breaches(now()) == 0
    near = make_ticket(priority=Ticket.Priority.URGENT)
    monday.move_to(near.first_response_due - datetime.timedelta(minutes=20))

    # The three past deadlines were never warned (the breach came first): the warning sweep
    # must look past them to the one still ahead.
    assert escalation.warn_before_breach(now()) == 1
    near.refresh_from_db()
    assert near.response_warned_at is not None


def test_an_answered_or_paused_ticket_is_not_escalated(monday, make_ticket, agent):
    answered = make_ticket(priority=Ticket.Priority.URGENT)
    services.ticket_message_add(ticket=answered, body="收到", kind="reply", by=agent)
    paused = make_ticket(priority=Ticket.Priority.URGENT)
    services.ticket_move(ticket=paused, status=Ticket.Status.PROCESSING, by=agent)
    services.ticket_move(ticket=paused, status=Ticket.Status.AWAITING, by=agent)
    monday.move_to(answered.first_response_due + datetime.timedelta(hours=1))
    assert escalation.sla_sweep(now=now()) == 0


def test_a_deadline_pushed_back_may_warn_again(monday, make_ticket, agent):
    ticket = make_ticket(priority=Ticket.Priority.URGENT)
    monday.move_to(ticket.first_response_due + datetime.timedelta(minutes=1))
    assert escalation.sla_sweep(now=now()) == 1
    services.ticket_change_priority(ticket=ticket, priority=Ticket.Priority.NORMAL, by=agent)
    ticket.refresh_from_db()
    assert ticket.response_breached_at is None
    monday.move_to(ticket.first_response_due + datetime.timedelta(minutes=1))
    assert escalation.sla_sweep(now=now()) >= 1


def test_the_breach_sweep_costs_the_same_queries_for_2_or_8_breaches(
    monday, make_ticket, agent, supervisor, django_assert_num_queries
):
    first = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(2)]
    monday.move_to(first[0].first_response_due + datetime.timedelta(minutes=1))
    escalation.escalate_breaches(now())  # warms the content types' cache
    for count in (2, 8):
        late = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(count)]
        monday.move_to(late[-1].first_response_due + datetime.timedelta(minutes=1))
        CompanySettings.load()  # cached again after the time travel
        # per deadline the candidates; for the response deadline's chunk: savepoint, lock the
        # tickets with assignee and head, claim them, the log rows' ids, notify's savepoint,
        # the notifications' ids, release, the events' ids, release (the rows go by COPY)
        with django_assert_num_queries(2 + 9):
            assert escalation.escalate_breaches(now()) == count
    told = Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached")
    assert told.count() == 12


def test_a_ticket_that_fails_holds_up_none_of_the_others_and_is_tried_again(
    monday, make_ticket, agent, supervisor, monkeypatch
):
    tickets = [make_ticket(priority=Ticket.Priority.URGENT) for _ in range(4)]
    poison = tickets[1]
    real_event_data = escalation.event_data

    def event_data(ticket):  # type: ignore[no-untyped-def]
        if ticket.pk == poison.pk:
            raise ValueError("poison")
        return real_event_data(ticket)

    monkeypatch.setattr(escalation, "event_data", event_data)
    monday.move_to(tickets[0].first_response_due + datetime.timedelta(minutes=1))

    assert escalation.escalate_breaches(now()) == 3

    breached = set(
        Ticket.objects.filter(response_breached_at__isnull=False).values_list("pk", flat=True)
    )
    assert breached == {ticket.pk for ticket in tickets} - {poison.pk}
    assert not poison.events.filter(kind=TicketEvent.Kind.SLA_BREACH).exists()
    told = Notification.objects.filter(recipient=supervisor, verb="ticket_sla_breached")
    assert sorted(told.values_list("target_id", flat=True)) == sorted(breached)
    assert DomainEvent.objects.filter(name="ticket.sla_breached").count() == 3

    monkeypatch.setattr(escalation, "event_data", real_event_data)
    assert escalation.escalate_breaches(now()) == 1
    assert told.count() == 4
    assert poison.events.filter(kind=TicketEvent.Kind.SLA_BREACH).count() == 1


def now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()
