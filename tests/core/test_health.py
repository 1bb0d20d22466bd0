import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.core.health import record_beat


@pytest.fixture
def redis_settings(settings):
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    settings.REDIS_URL = url
    return settings


def test_health_reports_database_broker_and_beat(client, db, redis_settings):
    record_beat()
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"]
    assert body["broker"]["ok"]
    assert body["beat"]["ok"]
    assert body["beat"]["last_run"] is not None


def test_a_stopped_redis_makes_health_answer_503(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_a_stale_beat_makes_health_answer_503(client, db, redis_settings):
    record_beat(timezone.now() - datetime.timedelta(hours=1))
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["beat"]["ok"] is False


def test_a_database_outage_makes_health_answer_503(client, db, redis_settings, monkeypatch):
    from django.db import OperationalError

    class StoppedDatabase:
        vendor = "postgresql"

        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("crm.core.health.connection", StoppedDatabase())
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "connection refused"}
