"""Work run by several threads at the same moment, each on its own database connection: two
beat workers taking the same sweep, or many clerks saving at once. Postgres only (SQLite has a
single writer, so it cannot show the races the row locks and claims prevent)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection, connections

T = TypeVar("T")

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs Postgres: row locks between concurrent transactions (SQLite has one writer)",
)


def at_once(*work: Callable[[], T], workers: int = 2, timeout: float = 600) -> list[T]:
    """Runs each callable in a thread of its own, all started together (a barrier); a single
    callable runs in ``workers`` threads. Returns the results (in no particular order) and
    re-raises the first error any thread met."""
    jobs = list(work) if len(work) > 1 else list(work) * workers
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> None:
        try:
            start.wait()
            result = job()
            with lock:
                results.append(result)
        except BaseException as error:  # reported to the test thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), f"still running after {timeout} s"
    if errors:
        raise errors[0]
    return results
