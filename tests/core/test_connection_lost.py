"""Postgres gone in the middle of a request (a restart, a failover): another connection
terminates the backend of the request's own connection just before one of its writes, and
does so at every write of the request in turn. Each time the user gets the error page (which
needs no database), not one table has changed, and the next request is served on a fresh
connection. The request left uncut then succeeds, which proves the cuts covered all its writes.

Only the test's own connection is terminated (``pg_terminate_backend``): the server, and the
other test runs on this machine, stay up.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from psycopg import sql

from customers.models import CustomerCategory
from customers.services import customer_create
from followups.models import FollowUpMethod, FollowUpTask
from opportunities import services as pipeline
from opportunities.models import Stage
from tests.concurrency import needs_postgres
from tests.customers.test_views import customer_form_data
from tests.worker import point_celery_at, side_connection
from tickets.models import QueueAgent, ServiceQueue, TicketCategory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WRITES = ("INSERT", "UPDATE", "DELETE")
MAX_WRITES = 80  # far above any of these requests: a loop that never ends is a bug


class CutBeforeWrite:
    """An execute wrapper on the request's connection: counts its writes and, before write
    number ``at``, has a second connection terminate this one's backend, so the write (and
    whatever the request does next) meets a dead connection."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.writes = 0
        self.cut = False

    def __call__(self, execute, sql_text, params, many, context):  # type: ignore[no-untyped-def]
        if sql_text.lstrip().upper().startswith(WRITES):
            self.writes += 1
            if self.writes == self.at:
                pid = context["connection"].connection.info.backend_pid
                with side_connection() as side:
                    # Waits (up to 10 s) until the backend is gone, not just signalled.
                    (gone,) = side.execute(
                        "SELECT pg_terminate_backend(%s, 10000)", [pid]
                    ).fetchone()
                assert gone, f"backend {pid} outlived pg_terminate_backend"
                self.cut = True
        return execute(sql_text, params, many, context)


def database_state() -> dict[str, str]:
    """Every table's rows, fingerprinted: an insert, an update or a delete anywhere shows."""
    with side_connection() as side:
        tables = [
            row[0]
            for row in side.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {
            table: side.execute(
                sql.SQL(
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' "
                    "ORDER BY t::text)), '') FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


@dataclass
class Scenario:
    user: str
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, Any]]


def intake(world: Any) -> dict[str, Any]:
    return {
        "customer": world.customer.pk,
        "contact": "",
        "contact_name": "李经理",
        "contact_phone": "13900001111",
        "contact_email": "li@example.com",
        "channel": "phone",
        "category": world.category.pk,
        "priority": "",
        "subject": "打印机卡纸",
        "description": "打印机卡纸，需要上门",
    }


def follow_up_record(world: Any) -> dict[str, Any]:
    now = timezone.localtime()
    return {
        "occurred_at": now.strftime("%Y-%m-%d %H:%M"),
        "method": FollowUpMethod.objects.get(code="phone").pk,
        "topic": "电话回访",
        "summary": "客户确认了需求",
        "feedback": "对价格满意",
        "next_step": "发送正式合同草案",
        "next_step_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "commitments-TOTAL_FORMS": "1",
        "commitments-INITIAL_FORMS": "0",
        "commitments-0-description": "寄送样品",
        "commitments-0-due_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
    }


SCENARIOS = {
    "a new customer with its contact": Scenario(
        "alice", lambda world: reverse("customers:create"), lambda world: customer_form_data()
    ),
    "a ticket logged and dispatched": Scenario(
        "agent", lambda world: reverse("tickets:create"), intake
    ),
    "a follow-up record that completes its task": Scenario(
        "alice",
        lambda world: reverse("followups:task_record", args=[world.task.pk]),
        follow_up_record,
    ),
    "an order that wins the deal and the customer": Scenario(
        "alice",
        lambda world: reverse("opportunities:order_create", args=[world.opportunity.pk]),
        lambda world: {"amount": "200000", "signed_on": timezone.localdate().isoformat()},
    ),
}


@pytest.fixture
def broker_in_memory():
    """Tasks leave the request as they do in production, for a worker to run later, instead of
    running inside it (the suite's eager mode): the cuts fall on the request's own writes."""
    from crm.celery import app

    before = app.conf.broker_url, app.conf.task_always_eager
    point_celery_at("memory://", eager=False)
    yield
    point_celery_at(before[0], eager=before[1])


@pytest.fixture
def world(alice, agent, supervisor, service_department, broker_in_memory):  # type: ignore[no-untyped-def]
    class World:
        pass

    world = World()
    world.users = {"alice": alice, "agent": agent}
    world.customer = customer_create(
        by=alice,
        owner=alice,
        name="断线测试精工有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
        contacts=[{"name": "王经理", "phone": "13812345678", "email": "wang@example.com"}],
    )
    queue = ServiceQueue.objects.create(team=service_department)
    QueueAgent.objects.create(queue=queue, user=agent, sort_order=1)
    world.category = TicketCategory.objects.get(name="产品使用类")
    world.category.parent.queue = queue
    world.category.parent.save(update_fields=["queue"])
    world.task = FollowUpTask.objects.create(
        customer=world.customer,
        owner=alice,
        title="电话回访",
        due_at=timezone.now() + datetime.timedelta(hours=2),
    )
    world.opportunity = pipeline.opportunity_create(
        customer=world.customer,
        by=alice,
        name="数控机床采购",
        stage=Stage.objects.get(code="proposal"),
        amount=Decimal("200000"),
        expected_close_date=timezone.localdate() + datetime.timedelta(days=30),
    )
    return world


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_connection_lost_before_any_write_leaves_nothing_half_written(world, scenario):
    client = Client(raise_request_exception=False)
    client.force_login(world.users[scenario.user])
    url = reverse("home")  # a page to show the next request is served
    for at in range(1, MAX_WRITES):
        before = database_state()
        cutter = CutBeforeWrite(at)
        with connection.execute_wrapper(cutter):
            response = client.post(scenario.url(world), scenario.data(world))
        # What the WSGI handler does when a response is finished (the test client leaves it
        # out): a connection that failed is closed, so the next request opens a new one.
        close_old_connections()
        if not cutter.cut:
            break  # the request has fewer writes than ``at``: it ran to the end
        assert response.status_code == 500, f"cut before write {at}: {response.status_code}"
        assert "服务器未能完成此请求" in response.content.decode()
        after = database_state()
        changed = sorted(table for table in before if before[table] != after.get(table))
        assert not changed, f"cut before write {at} of {cutter.writes}: {changed} changed"
        assert client.get(url).status_code == 200, f"not served after the cut at write {at}"
    else:
        pytest.fail(f"more than {MAX_WRITES} writes, or the cut never stopped the request")

    assert at > 2, "the request made fewer than two writes: nothing between writes was cut"
    assert response.status_code == 302, "the request failed even without a cut"
