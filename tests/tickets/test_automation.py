"""The ticket actions automation rules can use: dispatch by the category's queue, set priority."""

import pytest

from crm.automation.models import Action
from crm.automation.registry import ActionError, RunContext
from crm.automation.registry import action as action_type
from tickets.models import QueueAgent, Ticket

pytestmark = pytest.mark.django_db


def test_the_dispatch_action_hands_a_pool_ticket_to_an_agent_on_duty(
    monday, make_ticket, agent, queue
):
    QueueAgent.objects.filter(queue=queue).update(on_duty=False)
    ticket = make_ticket()
    dispatch = action_type("tickets.dispatch")
    action = Action(type="tickets.dispatch")
    with pytest.raises(ActionError):
        dispatch.apply(ticket, action, RunContext(event=None, rule=None))
    QueueAgent.objects.filter(queue=queue).update(on_duty=True)
    assert "将分派给" in dispatch.describe(ticket, action)
    dispatch.apply(ticket, action, RunContext(event=None, rule=None))
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_the_priority_action_recomputes_the_deadlines(monday, make_ticket):
    ticket = make_ticket()
    due = ticket.first_response_due
    set_priority = action_type("tickets.set_priority")
    set_priority.apply(ticket, Action(value="urgent"), RunContext(event=None, rule=None))
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT
    assert ticket.first_response_due < due
    with pytest.raises(ActionError):
        set_priority.apply(ticket, Action(value="asap"), RunContext(event=None, rule=None))
