"""``make bench``: server time, query count and own-SQL time of every registered page, and the
run time of every registered job, on the data set of ``seed_scale`` (crm.core.scale)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from crm.core import scale


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _replay(statements: list[str]) -> float:
    """Runs a page's SELECTs again, straight on the connection: the page's own SQL time."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
    return time.perf_counter() - began


def _machine() -> dict[str, Any]:
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            memory = f"{int(handle.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        # Other work on the machine shows in every figure: the load is part of the result.
        "load_average": os.getloadavg(),
    }


class Command(BaseCommand):
    help = "Benchmarks the pages and jobs apps register in crm.core.scale (run seed_scale first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=20, help="Measured requests a page.")
        parser.add_argument("--warmup", type=int, default=3)
        parser.add_argument("--only", default="", help="Only pages and jobs containing this text.")
        parser.add_argument("--skip-pages", action="store_true")
        parser.add_argument("--skip-jobs", action="store_true")
        parser.add_argument("--import-rows", type=int, default=100_000)
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "var" / "bench"))

    def handle(self, *args: object, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench measures the Postgres data set of seed_scale: set DATABASE_URL."
            )
        # The test client's host, and mail kept in memory. Not setup_test_environment(): its
        # instrumented template rendering would add its own cost to every page.
        with override_settings(
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ):
            self._run(options)

    def _run(self, options: dict[str, Any]) -> None:
        bench = scale.BenchContext(users={}, import_rows=options["import_rows"])
        self._vacuumed: set[str] = set()
        try:
            for hook in scale.prepares():
                hook(bench)
        except LookupError as error:
            raise CommandError(str(error)) from error
        self._vacuum(reindex=True)
        only = options["only"].casefold()
        results: dict[str, Any] = {
            "taken_at": timezone.now().isoformat(),
            "machine": _machine(),
            "customers": self._count_customers(),
            "pages": [],
            "jobs": [],
        }
        machine = results["machine"]
        self.stdout.write(
            f"{machine['cpus']} CPUs, {machine['memory']}, load average "
            + " ".join(f"{value:.1f}" for value in machine["load_average"])
            + f", {results['customers']} customers\n"
        )
        self.stdout.write(
            f"{'page':38} {'role':8} {'median':>8} {'p95':>8} {'queries':>7} {'sql':>8} "
            f"{'÷sql':>6}  target"
        )
        for item in [] if options["skip_pages"] else scale.pages():
            if only and only not in item.name.casefold():
                continue
            for role in item.roles:
                row = self._page(item, role, bench, options["requests"], options["warmup"])
                if row is not None:
                    results["pages"].append(row)
        if not options["skip_jobs"]:
            self.stdout.write(f"\n{'job':38} {'seconds':>8} {'result':>10}  target")
            for item in scale.jobs():
                if only and only not in item.name.casefold():
                    continue
                results["jobs"].append(self._job(item, bench))
            # The data set as generated for the next run: a job's vacuum leaves it no dead rows
            # to find, but keeps the bloat they left in the indexes.
            self._vacuum(reindex=True)
        folder = Path(options["output"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench-{timezone.now():%Y%m%d-%H%M%S}.json"
        results["load_average_after"] = os.getloadavg()
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
        (folder / "latest.json").write_text(path.read_text())
        self.stdout.write(f"\nWritten to {path}")

    def _vacuum(self, *, reindex: bool = False) -> None:
        """Cleans the tables an earlier run's rolled-back jobs left dead rows in (a reopening
        of 200,000 tickets leaves as many), so that the pages meet the data set as generated.
        Before the pages, and after the last job for the next run, the indexes of the tables
        vacuumed are rebuilt too: vacuum frees the dead entries but keeps the pages, and the
        reopening left the partial indexes of open tickets fifteen times their size, so that
        Postgres chose a smaller index it had to read the table behind (the ticket queue's
        counts, 7 -> 23 ms; a job's vacuum left the next run no dead rows to find, and the bloat
        in place). Before a job only vacuum runs (freshly built indexes are read from disk the
        first time). Where autovacuum runs, it has usually done the vacuuming already."""
        if connection.in_atomic_block:  # VACUUM cannot run in a transaction (tests)
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE n_dead_tup > 1000 "
                "AND n_dead_tup > n_live_tup / 20"
            )
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
            self._vacuumed.update(tables)
        if tables:
            self.stdout.write(f"Vacuumed {', '.join(sorted(tables))}")
        if reindex:
            self._reindex()

    def _reindex(self) -> None:
        """Rebuilds the indexes of the tables vacuumed since the last rebuild."""
        tables = sorted(self._vacuumed)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"REINDEX TABLE {connection.ops.quote_name(table)}")
        self._vacuumed.clear()
        if tables:
            self.stdout.write(f"Reindexed {', '.join(tables)}")

    def _count_customers(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM customers_customer")
            return cursor.fetchone()[0]

    def _page(
        self,
        item: scale.BenchPage,
        role: str,
        bench: scale.BenchContext,
        requests: int,
        warmup: int,
    ) -> dict[str, Any] | None:
        url = item.url(bench, role)
        if url is None:
            return None
        client = Client()
        client.force_login(bench.users[role])
        timings: list[float] = []
        captured: list[dict[str, Any]] = []
        status = 0
        for index in range(warmup + requests):
            connection.queries_log.clear()  # it keeps 9,000 queries: start each page empty
            with override_settings(**item.overrides), CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(url, secure=True)
                elapsed = time.perf_counter() - began
            status = response.status_code
            if index >= warmup:
                timings.append(elapsed)
            captured = queries.captured_queries
        selects = [
            query["sql"]
            for query in captured
            if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        ]
        with transaction.atomic():
            sql_times = [_replay(selects) for _ in range(max(5, requests // 2))]
        median = statistics.median(timings)
        p95 = _p95(timings)
        sql = statistics.median(sql_times)
        target = scale.PAGE_TARGETS[item.kind]
        # The three targets, reported apart: a page may meet its time and its query
        # budget while its Python (templates, forms, the ORM) still takes more than its SQL.
        fast = p95 < target
        few = len(captured) <= scale.MAX_QUERIES
        lean = median <= 2 * max(sql, 0.005)
        self.stdout.write(
            f"{item.name[:38]:38} {role:8} {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms "
            f"{len(captured):7d} {sql * 1000:7.1f}ms {median / sql if sql else 0:6.1f}  "
            f"p95<{target * 1000:.0f}ms {'ok' if fast else 'MISSED'}"
            + ("" if few else f", >{scale.MAX_QUERIES} queries")
            + ("" if lean else ", ÷sql>2")
            + ("" if status == 200 else f" (HTTP {status})")
        )
        return {
            "page": item.name,
            "kind": item.kind,
            "role": role,
            "url": url,
            "status": status,
            "median_ms": round(median * 1000, 2),
            "p95_ms": round(p95 * 1000, 2),
            "queries": len(captured),
            "sql_ms": round(sql * 1000, 2),
            "page_over_sql": round(median / sql, 2) if sql else None,
            "target_p95_ms": target * 1000,
            "met": fast and few and lean,
            "met_p95": fast,
            "met_queries": few,
            "met_sql_ratio": lean,
        }

    def _job(self, item: scale.BenchJob, bench: scale.BenchContext) -> dict[str, Any]:
        """One run, rolled back: jobs write (reminders, tiers), and the data set must stay as
        generated for the next run. A sweep is timed on its second run in the process, after a
        first one rolled back (reported too), as a worker's beat runs it. The dead rows an
        earlier job's rollback left (the import's 100,000 customers) are vacuumed first, so
        that each job meets the data set as generated, as the pages do."""
        self._vacuum()
        with transaction.atomic():
            prepared = item.setup(bench) if item.setup is not None else None
            cold = None
            if item.kind == "sweep":
                # A worker runs a sweep every few minutes: its templates, translations and URL
                # map are loaded after its first run. That first run, which loads what no job
                # before it did, is rolled back and reported beside the measured one.
                with transaction.atomic():
                    began = time.perf_counter()
                    item.run(bench)
                    cold = time.perf_counter() - began
                    transaction.set_rollback(True)
            began = time.perf_counter()
            result = item.run(bench)
            elapsed = time.perf_counter() - began
            again_began = time.perf_counter()
            again = item.run(bench) if item.kind == "sweep" else None
            again_elapsed = time.perf_counter() - again_began
            transaction.set_rollback(True)
        target = scale.JOB_TARGETS[item.kind]
        met = elapsed < target
        self.stdout.write(
            f"{item.name[:38]:38} {elapsed:7.2f}s {result!s:>10}  <{target:.0f}s "
            f"{'ok' if met else 'MISSED'}"
            + (
                f" (first: {cold:.2f}s; again: {again_elapsed:.2f}s, {again})"
                if cold is not None
                else ""
            )
            + (f" (set up: {prepared})" if item.setup is not None else "")
        )
        return {
            "job": item.name,
            "kind": item.kind,
            "seconds": round(elapsed, 3),
            "result": result,
            "first_run_seconds": round(cold, 3) if cold is not None else None,
            "second_run_seconds": round(again_elapsed, 3) if item.kind == "sweep" else None,
            "second_run_result": again,
            "setup_result": prepared,
            "target_seconds": target,
            "met": met,
        }
