"""Two workers delivering the same outbox at once: round-robin assignment under the pointer's row
lock splits 100 leads evenly and assigns none twice; a retried delivery runs no rule again.

Real transactions and real threads against Postgres: SQLite serialises writers, so it could not
show the race these locks prevent.
"""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from crm.accounts.roles import Role
from crm.automation import engine
from crm.automation.models import Action, RoundRobinPointer, Rule, RuleRun
from crm.core import events
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from customers.events import LEAD_CAPTURED
from customers.leads import lead_capture
from customers.models import Customer, SourceChannel
from tests.factories import TeamFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres: row locks between concurrent transactions (SQLite has one writer)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEADS = 100
REPS = 4


@pytest.fixture
def broker_down(monkeypatch):
    """No after-commit kicks: events wait in the outbox, as after a broker outage, until the
    workers below deliver them (as the beat sweep would)."""
    monkeypatch.setattr("crm.core.tasks.enqueue", lambda task, *args: None)


@pytest.fixture
def team():
    team = TeamFactory(name="并发组")
    for number in range(1, REPS + 1):
        UserFactory(username=f"rr{number}", team=team, role=Role.SALES_REP)
    return team


@pytest.fixture
def rule(team):
    rule = Rule.objects.create(name="轮流分配", trigger=LEAD_CAPTURED)
    Action.objects.create(
        rule=rule, type="customers.assign_owner", mode=Action.AssignMode.ROUND_ROBIN, team=team
    )
    return rule


def capture_leads(count: int) -> list[Customer]:
    source = SourceChannel.objects.get(code="online_ads")
    return [
        lead_capture(source=source, name=f"并发线索{index}", phone=f"1371234{index:04d}").customer
        for index in range(count)
    ]


def deliver(event_id: int) -> bool:
    # A worker's delivery is one transaction: the event's row lock and the handlers' writes
    # commit together (crm.core.events.deliver relies on its caller's transaction for the
    # SELECT … FOR UPDATE of the event).
    with transaction.atomic():
        return events.deliver(event_id)


def deliver_from_threads(event_ids: list[int], *, workers: int = 2) -> list[BaseException]:
    """Each worker delivers every event, in its own shuffled order, all starting together."""
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work(seed: int) -> None:
        ids = list(event_ids)
        random.Random(seed).shuffle(ids)
        try:
            start.wait()
            for event_id in ids:
                deliver(event_id)
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


def test_two_workers_split_100_leads_evenly_and_assign_each_once(broker_down, team, rule):
    customers = capture_leads(LEADS)
    event_ids = list(
        DomainEvent.objects.filter(name=LEAD_CAPTURED, delivered_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    assert len(event_ids) == LEADS
    assert not Customer.objects.filter(owner__isnull=False).exists()

    errors = deliver_from_threads(event_ids)

    assert errors == []
    assert not DomainEvent.objects.filter(pk__in=event_ids, delivered_at__isnull=True).exists()
    runs = RuleRun.objects.filter(rule=rule)
    assert runs.count() == LEADS
    assert set(runs.values_list("status", flat=True)) == {RuleRun.Status.SUCCESS}
    assert sorted(runs.values_list("object_id", flat=True)) == sorted(c.pk for c in customers)
    owners = Counter(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list(
            "owner__username", flat=True
        )
    )
    assert owners == {f"rr{number}": LEADS // REPS for number in range(1, REPS + 1)}
    # Assigned once each: one owner change per lead, one notice per assignment.
    changes = DomainEvent.objects.filter(name="customer.changed")
    assert changes.count() == LEADS
    assert changes.values("object_id").distinct().count() == LEADS
    assert Notification.objects.filter(verb="customer_assigned").count() == LEADS
    assert RoundRobinPointer.objects.filter(team=team).count() == 1


def test_a_retried_delivery_does_not_run_the_rule_again(broker_down, team, rule):
    (customer,) = capture_leads(1)
    event = DomainEvent.objects.get(name=LEAD_CAPTURED, object_id=customer.pk)

    assert deliver(event.pk) is True
    assert deliver(event.pk) is False  # the task retried after it had succeeded
    event.refresh_from_db()
    assert engine.run_rule(rule, event, customer) is None  # a delayed-rule sweep, say

    customer.refresh_from_db()
    assert customer.owner.username == "rr1"
    assert RuleRun.objects.filter(rule=rule).count() == 1
    assert Notification.objects.filter(verb="customer_assigned").count() == 1
    assert RoundRobinPointer.objects.get(team=team).last_user.username == "rr1"


def test_two_workers_on_one_event_run_the_rule_once(broker_down, team, rule):
    (customer,) = capture_leads(1)
    event = DomainEvent.objects.get(name=LEAD_CAPTURED, object_id=customer.pk)

    errors = deliver_from_threads([event.pk] * 20)  # both hammer the same event

    assert errors == []
    assert RuleRun.objects.filter(rule=rule).count() == 1
    customer.refresh_from_db()
    assert customer.owner.username == "rr1"
    assert Notification.objects.filter(verb="customer_assigned").count() == 1
