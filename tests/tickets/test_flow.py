"""Intake, the status flow with its log, pause and resume of the SLA clock, priority changes,
messages and the delay-explanation gate."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from crm.core.models import DomainEvent
from tests.tickets.conftest import SHANGHAI
from tickets import services
from tickets.models import Ticket, TicketEvent, TicketMessage

Status = Ticket.Status
pytestmark = pytest.mark.django_db


def local(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def test_it_numbers_times_and_dispatches_a_new_ticket(monday, make_ticket, agent, queue):
    ticket = make_ticket()
    assert ticket.number == "GW20260302001"
    assert ticket.status == Status.NEW
    assert ticket.assignee == agent
    assert ticket.department == queue.team
    assert ticket.subject == "设备无法开机，需要上门检修"
    # Normal priority: respond within 3 working days, Monday 10:00 → Thursday 10:00.
    assert ticket.first_response_due == local(2026, 3, 5, 10, 0)
    assert len(ticket.public_token) >= 32
    assert list(ticket.events.values_list("kind", flat=True)) == [
        TicketEvent.Kind.CREATED,
        TicketEvent.Kind.ASSIGNED,
    ]
    assert DomainEvent.objects.filter(name="ticket.created", object_id=ticket.pk).exists()


def test_urgent_deadlines_count_working_hours(monday, make_ticket):
    ticket = make_ticket(priority=Ticket.Priority.URGENT)
    assert ticket.first_response_due == local(2026, 3, 2, 12, 0)


def test_the_status_flow_is_logged_with_who_and_when(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=agent)
    services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)
    services.ticket_confirm_resolution(ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None
    moves = list(
        ticket.events.filter(kind=TicketEvent.Kind.STATUS).values_list(
            "from_status", "to_status", "actor"
        )
    )
    assert moves == [
        (Status.NEW, Status.PROCESSING, agent.pk),
        (Status.PROCESSING, Status.AWAITING, agent.pk),
        (Status.AWAITING, Status.CLOSED, None),
    ]
    services.ticket_reopen(ticket=ticket, by=agent, reason="客户反馈问题复现")
    ticket.refresh_from_db()
    assert ticket.status == Status.PROCESSING
    assert ticket.closed_at is None
    assert DomainEvent.objects.filter(name="ticket.status_changed").count() == 4


def test_it_refuses_a_jump_outside_the_flow(monday, make_ticket, agent):
    ticket = make_ticket()
    with pytest.raises(ValidationError):
        services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)


def test_someone_outside_the_queue_cannot_move_it(monday, make_ticket, charlie):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=charlie)


def test_awaiting_the_customer_pauses_the_resolution_clock(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=agent)
    due = ticket.resolution_due
    services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)
    # The customer answers the next morning: 9:00–10:00 Tuesday plus Monday 10:00–18:00
    # (less lunch) = 8 working hours went by paused.
    monday.move_to(local(2026, 3, 3, 10, 0))
    services.ticket_message_add(ticket=ticket, body="还是不行", kind=TicketMessage.Kind.CUSTOMER)
    ticket.refresh_from_db()
    assert ticket.status == Status.PROCESSING
    assert ticket.paused_total == datetime.timedelta(hours=8)
    assert ticket.resolution_due > due
    assert ticket.paused_at is None


def test_a_priority_change_recomputes_the_deadlines(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_change_priority(ticket=ticket, priority=Ticket.Priority.URGENT, by=agent)
    ticket.refresh_from_db()
    assert ticket.first_response_due == local(2026, 3, 2, 12, 0)
    assert ticket.events.filter(kind=TicketEvent.Kind.PRIORITY).exists()


def test_a_public_reply_answers_starts_work_and_mails_the_customer(
    monday, make_ticket, agent, django_capture_on_commit_callbacks
):
    ticket = make_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_message_add(
            ticket=ticket, body="您好，工程师明天上门。", kind=TicketMessage.Kind.REPLY, by=agent
        )
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert ticket.status == Status.PROCESSING
    customer_mails = [m for m in mail.outbox if m.to == ["wang@example.com"]]
    assert len(customer_mails) == 1
    assert "工程师明天上门" in customer_mails[0].body
    assert ticket.public_token in customer_mails[0].body
    # A retried task sends nothing twice.
    assert services.reply_email_send(message_id=ticket.messages.get().pk) is False


def test_internal_notes_are_not_public(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_message_add(ticket=ticket, body="内部：客户脾气急", kind="note", by=agent)
    services.ticket_message_add(ticket=ticket, body="已安排", kind="reply", by=agent)
    assert [m.body for m in ticket.messages.public()] == ["已安排"]


def test_a_closed_ticket_takes_no_customer_message(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_move(ticket=ticket, status=Status.CLOSED, by=agent)
    with pytest.raises(ValidationError):
        services.ticket_message_add(ticket=ticket, body="补充", kind=TicketMessage.Kind.CUSTOMER)


def test_a_ticket_long_past_due_needs_a_delay_explanation(
    monday, make_ticket, agent, supervisor, charlie
):
    ticket = make_ticket()
    services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=agent)
    ticket.refresh_from_db()
    monday.move_to(ticket.resolution_due + datetime.timedelta(days=3, minutes=1))
    assert services.delay_explanation_required(ticket)
    with pytest.raises(ValidationError, match="延迟说明"):
        services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)
    with pytest.raises(PermissionDenied):
        services.delay_explanation_file(
            ticket=ticket, reason="x", new_date=datetime.date(2026, 4, 30), by=charlie
        )
    today = ticket.resolution_due.astimezone(SHANGHAI).date() + datetime.timedelta(days=3)
    services.delay_explanation_file(
        ticket=ticket, reason="等待厂家配件", new_date=today + datetime.timedelta(days=2), by=agent
    )
    ticket.refresh_from_db()
    assert not services.delay_explanation_required(ticket)
    services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)
    # The supervisor (head of 客服部) was told.
    assert supervisor.notifications.filter(verb="ticket_delay_explained").count() == 1


def test_it_keeps_response_and_resolution_times_in_working_minutes(monday, make_ticket, agent):
    ticket = make_ticket()  # Monday 10:00
    # Answered after lunch: 10:00–12:00 and 13:00–14:30 are 3.5 working hours.
    monday.move_to(local(2026, 3, 2, 14, 30))
    services.ticket_message_add(
        ticket=ticket, body="已收到", kind=TicketMessage.Kind.REPLY, by=agent
    )
    # Resolved on Tuesday at 10:00: Monday 10:00–18:00 less lunch (7 h) and Tuesday 9–10 (1 h).
    monday.move_to(local(2026, 3, 3, 10, 0))
    services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)
    ticket.refresh_from_db()
    assert ticket.response_minutes == 210
    assert ticket.resolution_minutes == 8 * 60


def test_resolution_time_leaves_out_the_time_awaiting_the_customer(monday, make_ticket, agent):
    ticket = make_ticket()
    services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=agent)
    monday.move_to(local(2026, 3, 2, 11, 0))
    services.ticket_move(ticket=ticket, status=Status.AWAITING, by=agent)  # 1 h of work
    monday.move_to(local(2026, 3, 3, 11, 0))  # the customer says no after 8 working hours
    services.ticket_message_add(ticket=ticket, body="还是不行", kind=TicketMessage.Kind.CUSTOMER)
    monday.move_to(local(2026, 3, 3, 12, 0))
    services.ticket_move(ticket=ticket, status=Status.CLOSED, by=agent)  # one more hour
    ticket.refresh_from_db()
    assert ticket.resolution_minutes == 2 * 60
    # Reopened, it is unresolved again.
    services.ticket_move(ticket=ticket, status=Status.PROCESSING, by=agent)
    ticket.refresh_from_db()
    assert ticket.resolution_minutes is None
