"""Faults: with Redis stopped, pages still serve and changes still save; the events they raise
wait in the outbox and go out when the broker is back."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from crm.core.models import DomainEvent
from customers.models import Customer
from tests.customers.test_views import customer_form_data
from tests.worker import point_celery_at, redis_is_reachable, redis_url

STOPPED = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def redis_stopped(settings):
    """The cache and the broker both on a Redis that is not there."""
    settings.CACHES = {
        "default": {
            "BACKEND": "crm.core.cache.ResilientRedisCache",
            "LOCATION": STOPPED,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.REDIS_URL = STOPPED
    from crm.celery import app

    before = app.conf.broker_url, app.conf.task_always_eager
    point_celery_at(STOPPED, eager=False)
    yield
    point_celery_at(before[0], eager=before[1])


def test_the_cache_reads_as_a_miss_and_writes_as_nothing(db, redis_stopped):
    assert cache.get("anything", "fallback") == "fallback"
    cache.set("anything", 1)
    assert cache.add("anything", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    with pytest.raises(ValueError, match="unavailable"):
        cache.incr("anything")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pages_serve_and_changes_save_while_redis_is_down(client, alice, redis_stopped):
    client.force_login(alice)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("customers:list")).status_code == 200

    response = client.post(reverse("customers:create"), customer_form_data())

    assert response.status_code == 302
    customer = Customer.objects.get(name="苏州新材料有限公司")
    assert client.get(customer.get_absolute_url()).status_code == 200
    waiting = DomainEvent.objects.filter(name="customer.created", delivered_at__isnull=True)
    assert waiting.count() == 1
    assert client.get(reverse("health")).status_code == 503


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_outbox_is_drained_when_the_broker_is_back(client, alice, redis_stopped, time_machine):
    if not redis_is_reachable():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    client.force_login(alice)
    client.post(reverse("customers:create"), customer_form_data())
    assert DomainEvent.objects.filter(delivered_at__isnull=True).exists()

    point_celery_at(redis_url(), eager=True)  # Redis is back; the beat sweep runs
    # past the sweep's grace for kicks still on their way
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=1))
    from crm.core.tasks import deliver_pending_events

    deliver_pending_events.delay()

    assert not DomainEvent.objects.filter(delivered_at__isnull=True).exists()
