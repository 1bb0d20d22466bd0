"""The checks behind /health/: database, cache/broker and the last beat run."""

import datetime
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.core.models import Heartbeat

BEAT = "beat"


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver error means the database is not usable
        return {"ok": False, "error": str(error)[:200]}
    return {"ok": True, "engine": connection.vendor}


def check_broker() -> dict[str, Any]:
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
            )
            client.ping()
        except redis.RedisError as error:
            return {"ok": False, "kind": "redis", "error": str(error)[:200]}
        return {"ok": True, "kind": "redis"}
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    ok = folder.is_dir()
    return {"ok": ok, "kind": "filesystem", **({} if ok else {"error": "broker folder missing"})}


def check_beat(now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    try:
        beat_at = Heartbeat.objects.filter(name=BEAT).values_list("beat_at", flat=True).first()
    except Exception as error:  # the database check reports the cause
        return {"ok": False, "error": str(error)[:200]}
    if beat_at is None:
        # A fresh installation has not beaten yet; that is not an outage.
        return {"ok": True, "last_run": None}
    age = (now - beat_at).total_seconds()
    return {
        "ok": age <= settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS,
        "last_run": beat_at.isoformat(),
        "age_seconds": int(age),
    }


def record_beat(now: datetime.datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"beat_at": now or timezone.now()})
