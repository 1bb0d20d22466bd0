"""A real Celery worker (optionally with beat) against Redis and the test database."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# A Redis database of its own (one per pytest-xdist process), so that no other worker on this
# machine takes the test's tasks. TEST_REDIS_DB_TOP moves the range down for a second suite run
# at the same time on the same Redis (another checkout's).
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB_TOP", "15")) - int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0
)


def redis_url() -> str:
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return base.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"


def redis_is_reachable() -> bool:
    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


needs_worker = [
    pytest.mark.worker,
    pytest.mark.skipif(not redis_is_reachable(), reason="Redis is not reachable: no worker test"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker process needs a shared database server (set DATABASE_URL to Postgres)",
    ),
]


class Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.output = ""


@contextmanager
def running_worker(*, beat: bool = False) -> Iterator[Worker]:
    """Starts ``celery worker`` on the test database and a private Redis database; stops it
    on exit, keeping its log in ``worker.output`` for assertion messages."""
    redis.Redis.from_url(redis_url()).flushdb()
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
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm",
        "worker",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        command.append("--beat")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    worker = Worker(process)
    try:
        yield worker
    finally:
        process.terminate()
        try:
            worker.output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            worker.output, _ = process.communicate()


def point_celery_at(url: str, *, eager: bool) -> None:
    """Points this process's Celery at a broker. Connections made earlier (a retried task in
    another test, say) are dropped, or messages would still go to the old broker."""
    from kombu import pools

    from crm.celery import app

    app.conf.broker_url = url
    app.conf.task_always_eager = eager
    # kombu keeps its connection and producer pools in global registries: empty them, and the
    # app's references to them, so that the next task opens a pool on the new broker.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def use_worker_broker(settings_fixture) -> None:  # type: ignore[no-untyped-def]
    """Points this process's Celery at the worker's broker and turns eager mode off."""
    point_celery_at(redis_url(), eager=False)
    settings_fixture.CELERY_TASK_ALWAYS_EAGER = False
