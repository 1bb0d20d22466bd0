"""seed_demo gives the desk a year of tickets in every state, once."""

import pytest
from django.core.management import call_command

from tickets.models import DelayExplanation, Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_year_of_tickets_in_every_state_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    count = Ticket.objects.count()
    assert count >= 200
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert Ticket.objects.filter(assignee__username="agent1").exists()
    assert Ticket.objects.filter(assignee__username="agent2").exists()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.STATUS).exists()
    assert TicketMessage.objects.filter(kind=TicketMessage.Kind.NOTE).exists()
    assert DelayExplanation.objects.exists()
    call_command("seed_demo")
    assert Ticket.objects.count() == count
