"""The service desk every ticket test leans on: 客服部's queue holding agent (and agent2 when
asked for), a subcategory routed to it, and a working Monday morning to start the clocks."""

import datetime
import zoneinfo

import pytest
import time_machine

from crm.accounts.roles import Role
from tests.factories import UserFactory
from tickets import services
from tickets.models import QueueAgent, ServiceQueue, Ticket, TicketCategory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:00 in Shanghai: an ordinary working day.
MONDAY_10 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def queue(service_department, agent) -> ServiceQueue:
    queue = ServiceQueue.objects.create(team=service_department)
    QueueAgent.objects.create(queue=queue, user=agent, sort_order=1)
    return queue


@pytest.fixture
def agent2(service_group, queue):
    user = UserFactory(username="agent2", team=service_group, role=Role.SERVICE_AGENT)
    QueueAgent.objects.create(queue=queue, user=user, sort_order=2)
    return user


@pytest.fixture
def category(queue) -> TicketCategory:
    """咨询 / 产品使用类 (normal priority), routed through its parent to the service queue."""
    parent = TicketCategory.objects.get(name="咨询", parent=None)
    parent.queue = queue
    parent.save(update_fields=["queue"])
    return TicketCategory.objects.get(name="产品使用类", parent=parent)


@pytest.fixture
def make_ticket(category):
    def make(**fields) -> Ticket:
        defaults = {
            "contact_name": "王先生",
            "contact_phone": "13812345678",
            "contact_email": "wang@example.com",
            "category": category,
            "description": "设备无法开机，需要上门检修",
            "channel": Ticket.Channel.PHONE,
        }
        return services.ticket_create(**{**defaults, **fields})

    return make
