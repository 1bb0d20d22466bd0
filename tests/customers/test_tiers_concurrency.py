"""The nightly tier and lifecycle job run by two workers at once: each won customer without
cooperation for three months turns lost once, with one ``customer.changed`` event, one history
row and the other figures untouched by the slower run. Real threads against Postgres."""

import datetime

import pytest
from django.utils import timezone

from crm.core.models import DomainEvent
from customers import tiers
from customers.events import CUSTOMER_CHANGED
from customers.models import Customer
from tests.concurrency import at_once, needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CUSTOMERS = 15


def test_two_workers_turn_each_idle_customer_lost_once(alice, make_customer):
    now = timezone.now()
    idle = [
        make_customer(
            alice,
            name=f"流失并发客户{index}",
            phone=f"139000000{index:02d}",
            type=Customer.Type.WON,
            lifecycle=Customer.Lifecycle.COOPERATING,
            last_cooperation_at=now - datetime.timedelta(days=100),
        )
        for index in range(CUSTOMERS)
    ]

    at_once(lambda: tiers.tiers_recompute(now=now))

    for customer in idle:
        customer.refresh_from_db()
        assert (customer.type, customer.lifecycle) == (Customer.Type.LOST, Customer.Lifecycle.LOST)
        changed = DomainEvent.objects.filter(name=CUSTOMER_CHANGED, object_id=customer.pk)
        assert [event.payload for event in changed] == [{"changed": ["type", "lifecycle"]}]
        assert customer.history.filter(type=Customer.Type.LOST).count() == 1
    assert tiers.tiers_recompute(now=now) == 0
