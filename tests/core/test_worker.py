"""A real Celery worker with an embedded beat, against Redis and the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.core.models import Heartbeat

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own, so that no other worker on this machine takes the test's tasks.
TEST_REDIS_DB = 15


def redis_url() -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return base.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"


def redis_is_reachable() -> bool:
    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not redis_is_reachable(), reason="Redis is not reachable: no worker test"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process needs a shared database server (set DATABASE_URL to Postgres)",
    ),
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_schedules_a_task_that_a_real_worker_runs():
    redis.Redis.from_url(redis_url()).flushdb()
    PeriodicTask.objects.all().delete()
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="test heartbeat", task="crm.core.tasks.record_heartbeat", interval=every_second
    )
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DEBUG": "1",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": redis_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--beat",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Heartbeat.objects.exists():
            if worker.poll() is not None:
                break
            time.sleep(0.5)
        beat = Heartbeat.objects.first()
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert beat is not None, f"no heartbeat from the worker; its log:\n{output[-4000:]}"
    assert "crm.core.tasks.record_heartbeat" in output
