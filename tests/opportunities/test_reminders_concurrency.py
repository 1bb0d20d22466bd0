"""Two workers running the pipeline's sweeps at the same moment: each owner is told once per
stale stay and once per overdue instalment.

Real transactions and real threads against Postgres: the conditional-update claims are what
stop the second worker, and SQLite's single writer could not show the race they prevent.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine

from crm.notifications.models import Notification
from opportunities import reminders, services
from tests.concurrency import at_once, needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

START = datetime.datetime(2026, 3, 2, 2, 30, tzinfo=datetime.UTC)
NOW = START + datetime.timedelta(days=10)
DEALS = 12


def from_threads(sweep: Callable[..., int]) -> list[int]:
    return at_once(lambda: sweep(now=NOW))


@pytest.fixture
def deals(alice, alices_customer, make_opportunity):
    with time_machine.travel(START, tick=False):
        opportunities = [
            make_opportunity(alices_customer, alice, "proposal", name=f"并发机会{index}")
            for index in range(DEALS)
        ]
        for opportunity in opportunities[: DEALS // 2]:
            order = services.order_create(
                opportunity=opportunity,
                by=alice,
                amount=Decimal("1000"),
                signed_on=START.date(),
            )
            services.instalment_add(
                order=order, by=alice, due_date=START.date(), amount=Decimal("1000")
            )
    return opportunities


def test_two_workers_remind_each_stale_opportunity_once(alice, deals):
    assert sum(from_threads(reminders.remind_stale_opportunities)) == DEALS // 2
    assert Notification.objects.filter(verb="opportunity_stale").count() == DEALS // 2


def test_two_workers_remind_each_overdue_instalment_once(alice, deals):
    assert sum(from_threads(reminders.remind_overdue_instalments)) == DEALS // 2
    assert Notification.objects.filter(verb="order_overdue").count() == DEALS // 2
