"""A real Celery worker (optionally with beat) against Redis and the test database."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Model
from psycopg import sql

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
    def __init__(self, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        self.process = process
        self.log = log
        self.output = ""

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes at once: the container or machine
        lost, nothing gets to clean up or hand its task back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def pool_pids(self) -> list[int]:
        """The pool processes the worker forked (``--concurrency=1``: one)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def read_log(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")


@contextmanager
def running_worker(
    *, beat: bool = False, flush: bool = True, env: dict[str, str] | None = None
) -> Iterator[Worker]:
    """Starts ``celery worker`` on the test database and a private Redis database; stops it
    on exit, keeping its log in ``worker.output`` for assertion messages.

    ``flush=False`` keeps what the broker holds (a task a killed worker left unacknowledged);
    ``env`` adds environment variables (settings) for the worker process."""
    if flush:
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
        **(env or {}),
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
    # The log goes to a file, not a pipe: a pipe nobody reads until the end would fill up and
    # block a chatty worker. A session of its own lets ``kill`` reach the pool processes too.
    with tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        worker = Worker(process, log)
        try:
            yield worker
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            worker.output = worker.read_log()


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


@contextmanager
def sending_to_worker(settings_fixture) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """This process's tasks go to the worker's broker for the duration, then back."""
    from crm.celery import app

    before = app.conf.broker_url, app.conf.task_always_eager
    use_worker_broker(settings_fixture)
    try:
        yield
    finally:
        point_celery_at(before[0], eager=before[1])


def side_connection() -> psycopg.Connection:
    """A database connection of the test's own, outside Django (a second client)."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


@contextmanager
def row_locked(model: type[Model], pk: int) -> Iterator[psycopg.Connection]:
    """Holds a lock on one row from a side connection, so that a sweep reaching that row waits
    there: the test then knows the sweep is in progress, and how far it got."""
    side = side_connection()
    try:
        side.execute(
            sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(
                sql.Identifier(model._meta.db_table)
            ),
            [pk],
        )
        yield side
    finally:
        side.rollback()
        side.close()


def wait_until_blocked(side: psycopg.Connection, worker: Worker, *, timeout: float = 120) -> None:
    """Returns once another backend (the worker's) waits for a lock ``side`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [side.info.backend_pid],
            )
            if cursor.fetchone()[0]:
                return
        assert worker.process.poll() is None, f"the worker stopped; log:\n{worker.read_log()}"
        time.sleep(0.2)
    raise AssertionError(f"the sweep never reached the locked row; log:\n{worker.read_log()}")


def wait_for(condition: Callable[[], bool], worker: Worker, *, timeout: float = 180) -> bool:
    """Polls ``condition`` until it holds (True) or the generous deadline passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if worker.process.poll() is not None:
            return condition()
        time.sleep(0.5)
    return condition()


def unacknowledged(broker: redis.Redis) -> list[str]:
    """The names of the tasks kombu's Redis transport holds as delivered but not acknowledged."""
    return sorted(json.loads(raw)[0]["headers"]["task"] for raw in broker.hvals("unacked"))
