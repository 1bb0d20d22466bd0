"""Auto-dispatch: round-robin and least-loaded among agents on duty, leave hands over to the
backup, supervisors re-dispatch and assign in bulk."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crm.accounts.models import Leave
from tickets import services
from tickets.models import QueueAgent, ServiceQueue, Ticket

pytestmark = pytest.mark.django_db


def test_round_robin_takes_turns(monday, make_ticket, agent, agent2):
    assignees = [make_ticket().assignee for _ in range(4)]
    assert assignees == [agent, agent2, agent, agent2]


def test_agents_off_duty_get_nothing(monday, make_ticket, agent, agent2, queue):
    QueueAgent.objects.filter(user=agent).update(on_duty=False)
    assert {make_ticket().assignee for _ in range(3)} == {agent2}


def test_least_loaded_goes_to_the_agent_with_fewest_open_tickets(
    monday, make_ticket, agent, agent2, queue
):
    queue.mode = ServiceQueue.Mode.LEAST_LOADED
    queue.save()
    first = make_ticket()
    second = make_ticket()
    assert {first.assignee, second.assignee} == {agent, agent2}
    services.ticket_move(ticket=first, status=Ticket.Status.CLOSED, by=first.assignee)
    assert make_ticket().assignee == first.assignee


def test_an_agent_on_leave_hands_over_to_the_backup(monday, make_ticket, agent, agent2, supervisor):
    today = timezone.localdate()
    Leave.objects.create(
        user=agent, starts_on=today, ends_on=today + datetime.timedelta(days=2), backup=supervisor
    )
    assignees = [make_ticket().assignee for _ in range(4)]
    assert assignees == [supervisor, agent2, supervisor, agent2]


def test_an_empty_queue_leaves_the_ticket_in_the_pool(monday, make_ticket, agent, queue):
    QueueAgent.objects.filter(queue=queue).delete()
    ticket = make_ticket()
    assert ticket.assignee is None
    assert ticket.queue == queue


def test_a_supervisor_redispatches_and_assigns_in_bulk(
    monday, make_ticket, agent, agent2, supervisor
):
    ticket = make_ticket()
    assert ticket.assignee == agent
    QueueAgent.objects.filter(user=agent).update(on_duty=False)
    services.ticket_redispatch(ticket=ticket, by=supervisor)
    assert ticket.assignee == agent2
    others = [make_ticket() for _ in range(2)]
    assert {other.assignee for other in others} == {agent2}
    others[0].assignee = agent
    others[0].save()
    assert services.tickets_assign(tickets=others, assignee=agent, by=supervisor) == 1
    assert Ticket.objects.filter(assignee=agent).count() == 2


def test_an_agent_may_not_reassign(monday, make_ticket, agent, agent2):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket=ticket, assignee=agent2, by=agent)


def test_an_agent_takes_an_unassigned_ticket(monday, make_ticket, agent, queue):
    QueueAgent.objects.filter(queue=queue).update(on_duty=False)
    ticket = make_ticket()
    assert ticket.assignee is None
    services.ticket_take(ticket=ticket, by=agent)
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.status == Ticket.Status.PROCESSING
