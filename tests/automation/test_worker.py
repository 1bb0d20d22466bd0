"""End to end through Redis: a lead posted to the capture API is assigned by a rule in a real
worker, and the new owner is notified."""

import hashlib
import json
import time

import pytest

from crm.automation.models import Action, Rule, RuleRun
from crm.notifications.models import Notification
from customers.models import Customer, LeadSource, SourceChannel
from tests.worker import needs_worker, point_celery_at, running_worker, use_worker_broker

pytestmark = needs_worker


@pytest.fixture
def worker_broker(settings):
    from crm.celery import app

    before = (app.conf.broker_url, app.conf.task_always_eager)
    use_worker_broker(settings)
    yield
    point_celery_at(before[0], eager=before[1])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_captured_lead_is_assigned_by_a_rule_in_a_real_worker(client, alice, worker_broker):
    key = "test-key-for-the-worker"
    channel = SourceChannel.objects.get(code="online_ads")
    LeadSource.objects.create(
        name="官网",
        channel=channel,
        api_key_hash=hashlib.sha256(key.encode()).hexdigest(),
        key_prefix=key[:8],
    )
    rule = Rule.objects.create(name="线上广告线索给 alice", trigger="lead.captured")
    Action.objects.create(rule=rule, type="customers.assign_owner", mode="fixed", user=alice)

    with running_worker() as worker:
        response = client.post(
            "/api/leads/",
            data=json.dumps({"name": "常州天宁机电有限公司", "phone": "13912345678"}),
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )
        assert response.status_code == 201, response.content
        customer = Customer.objects.get(number=response.json()["number"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            customer.refresh_from_db()
            if customer.owner_id or worker.process.poll() is not None:
                break
            time.sleep(0.5)

    assert customer.owner == alice, (
        f"not assigned (worker exit {worker.process.returncode}); log:\n{worker.output[-4000:]}"
    )
    assert customer.status == Customer.Status.FOLLOWING
    assert RuleRun.objects.get(rule=rule).status == RuleRun.Status.SUCCESS
    assert Notification.objects.filter(recipient=alice, verb="customer_assigned").exists()
