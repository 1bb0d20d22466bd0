"""The scale data set and the benchmark: each app registers its part.

``manage.py seed_scale`` runs the registered steps in order, each filling its tables with a
generated, repeatable data set sized from the number of customers (COPY, no per-row ORM saves).
``manage.py bench`` (``make bench``) then requests every registered page as the registered
roles and runs every registered job (beat sweeps, the import), and reports server time, query
count and the time of the page's own SQL.

An app registers both from a ``scale`` module, found by ``autodiscover_modules("scale")``::

    @scale.step(30, "opportunities", clear=clear_generated, foreign=has_real_rows)
    def seed_opportunities(context: scale.ScaleContext) -> None: ...

    scale.page("pipeline board", "list", roles=("rep", "manager"), url=lambda b, role: "/…")
    scale.job("SLA sweep", "sweep", run=lambda b: sweep(now=timezone.now()))
    scale.job("SLA sweep, 200k open", "sweep", setup=open_more, run=…)

Generated rows carry a marker (customer numbers start with ``SC``, usernames with ``scale-``),
so a step can tell them from real data: the command refuses a database where any step reports
rows it did not generate, unless forced.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.db import connection, models
from django.utils.module_loading import autodiscover_modules

# Steps write their rows with these (they live with the import's bulk writes).
from crm.core.bulk import copy_rows as copy_rows
from crm.core.bulk import reserve_ids as reserve_ids

if TYPE_CHECKING:
    from crm.accounts.models import User

# The markers of generated rows.
CUSTOMER_NUMBER_PREFIX = "SC"
USERNAME_PREFIX = "scale-"
BASE_CUSTOMERS = 100_000

# --- the data set ---------------------------------------------------------------------------------


@dataclass
class ScaleContext:
    """What a step is given: the size, a seeded random generator and what earlier steps found."""

    customers: int
    seed: int
    now: datetime.datetime
    random: random.Random
    # Handed from step to step, e.g. "reps" (user ids) from accounts, "customer_ids" from customers.
    shared: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print

    def scaled(self, per_base: float, minimum: int = 1) -> int:
        """A count proportional to the data set: ``per_base`` at 100,000 customers."""
        return max(minimum, round(per_base * self.customers / BASE_CUSTOMERS))


@dataclass(frozen=True)
class ScaleStep:
    order: int
    name: str
    run: Callable[[ScaleContext], None]
    clear: Callable[[], None]
    foreign: Callable[[], bool]


_steps: dict[str, ScaleStep] = {}


def _nothing() -> None:
    return None


def _no_foreign_rows() -> bool:
    return False


def step(
    order: int,
    name: str,
    *,
    clear: Callable[[], None] = _nothing,
    foreign: Callable[[], bool] = _no_foreign_rows,
) -> Callable[[Callable[[ScaleContext], None]], Callable[[ScaleContext], None]]:
    """Registers a step. ``clear`` deletes the rows an earlier run generated (steps are cleared
    in reverse order, so children go first); ``foreign`` says whether the tables hold rows this
    step did not generate."""

    def decorator(function: Callable[[ScaleContext], None]) -> Callable[[ScaleContext], None]:
        _steps[name] = ScaleStep(order, name, function, clear, foreign)
        return function

    return decorator


def steps() -> list[ScaleStep]:
    autodiscover_modules("scale")
    return sorted(_steps.values(), key=lambda item: item.order)


def analyze(*models_: type[models.Model]) -> None:
    """Fresh statistics after a bulk load, so the planner knows the tables' new sizes."""
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- the benchmark --------------------------------------------------------------------------------

PageKind = Literal["list", "search", "detail", "home", "dashboard", "cached"]
JobKind = Literal["sweep", "import"]

# Targets of the issue, in seconds (p95 for pages, one run for jobs).
PAGE_TARGETS: dict[str, float] = {
    "list": 0.075,
    "search": 0.100,
    "detail": 0.075,
    "home": 0.075,
    "dashboard": 0.150,
    "cached": 0.020,  # a dashboard served from the cache
}
JOB_TARGETS: dict[str, float] = {"sweep": 1.0, "import": 60.0}
MAX_QUERIES = 15

# The benchmark signs in as one user of each of these roles (see the accounts scale step); a page
# names its own roles when they differ (the service desk's add "supervisor").
BENCH_ROLES = ("rep", "manager", "agent", "analyst")


@dataclass
class BenchContext:
    """The users the benchmark signs in as, and samples steps pick for URLs (a visible customer,
    a phone's last four digits …), computed once by each app's ``prepare`` hook."""

    users: dict[str, User]
    samples: dict[str, Any] = field(default_factory=dict)
    import_rows: int = 100_000  # the size of the import the benchmark runs


@dataclass(frozen=True)
class BenchPage:
    name: str
    kind: PageKind
    roles: tuple[str, ...]
    url: Callable[[BenchContext, str], str | None]  # None: nothing to show this role
    # Settings while the page is measured, e.g. no cache for a dashboard's uncached figure.
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchJob:
    name: str
    kind: JobKind
    run: Callable[[BenchContext], Any]
    # Shapes the data for this job inside its rolled-back transaction, untimed.
    setup: Callable[[BenchContext], Any] | None = None


_pages: dict[str, BenchPage] = {}
_jobs: dict[str, BenchJob] = {}
_prepares: list[Callable[[BenchContext], None]] = []


def page(
    name: str,
    kind: PageKind,
    *,
    roles: tuple[str, ...] = BENCH_ROLES,
    url: Callable[[BenchContext, str], str | None],
    overrides: dict[str, Any] | None = None,
) -> None:
    _pages[name] = BenchPage(name, kind, roles, url, overrides or {})


def job(
    name: str,
    kind: JobKind,
    *,
    run: Callable[[BenchContext], Any],
    setup: Callable[[BenchContext], Any] | None = None,
) -> None:
    """Registers a job; ``setup`` (untimed, rolled back with the job) prepares a case the data
    set does not hold as generated, and its result is reported beside the job's."""
    _jobs[name] = BenchJob(name, kind, run, setup)


def prepare(function: Callable[[BenchContext], None]) -> Callable[[BenchContext], None]:
    """Registers a hook that fills ``BenchContext.samples`` before the pages are requested."""
    if function not in _prepares:
        _prepares.append(function)
    return function


def pages() -> list[BenchPage]:
    autodiscover_modules("scale")
    return list(_pages.values())


def jobs() -> list[BenchJob]:
    autodiscover_modules("scale")
    return list(_jobs.values())


def prepares() -> list[Callable[[BenchContext], None]]:
    autodiscover_modules("scale")
    return list(_prepares)
