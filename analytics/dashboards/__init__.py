"""The dashboards: each module registers one (its charts, who may open it, its breakdowns) and
the drill-down lists behind its points.

A dashboard is built in a handful of grouped queries, whatever the number of records, and kept
in the cache for a short while under a key naming whose figures they are and the filter, so that
nobody is ever served another scope's numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.functional import Promise

from analytics.charts import Board
from analytics.scope import Scope
from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.choices import cached_rows


@dataclass(frozen=True)
class Dashboard:
    key: str
    title: str | Promise
    icon: str
    order: int
    roles: frozenset[str]
    build: Callable[[Scope], Board]
    dimensions: list[tuple[str, str | Promise]] = field(default_factory=list)
    # (chart key, title): what an action plan may name as the metric it addresses.
    metrics: list[tuple[str, str | Promise]] = field(default_factory=list)
    description: str | Promise = ""
    default_period: str = "12m"
    # Whether the team and person filters apply (not to company-wide figures like automation).
    people: bool = True

    def allowed(self, user: User) -> bool:
        if not user.is_authenticated:
            return False
        return user.is_superuser or bool(user.roles & self.roles)

    def board(self, scope: Scope) -> Board:
        """The built dashboard, from the cache when the same scope and filter asked lately."""
        key = scope.cache_key(self.key)
        board = cache.get(key) if cache_seconds() > 0 else None
        if board is None:
            board = self.build(scope)
            cache.set(key, board, cache_seconds())
        return board


_dashboards: dict[str, Dashboard] = {}


def register(dashboard: Dashboard) -> Dashboard:
    _dashboards[dashboard.key] = dashboard
    return dashboard


def get(key: str) -> Dashboard:
    return _dashboards[key]


def all_dashboards() -> list[Dashboard]:
    return sorted(_dashboards.values(), key=lambda dashboard: dashboard.order)


def for_user(user: User) -> list[Dashboard]:
    return [dashboard for dashboard in all_dashboards() if dashboard.allowed(user)]


def metric_choices() -> list[tuple[str, str]]:
    return [
        (f"{dashboard.key}.{key}", f"{dashboard.title} · {title}")
        for dashboard in all_dashboards()
        for key, title in dashboard.metrics
    ]


def metric_label(metric: str) -> str:
    return dict(metric_choices()).get(metric, metric)


def cache_seconds() -> int:
    """How long a built dashboard is kept; 0 builds every request, whatever is cached."""
    return int(getattr(settings, "ANALYTICS_CACHE_SECONDS", 300))


def names(queryset: QuerySet[Any]) -> dict[Any, str]:
    """Labels of a small dictionary by primary key, from the cache (crm.core.choices)."""
    return {row.pk: str(row) for row in cached_rows(queryset)}


def label(mapping: dict[Any, str], key: Any, empty: str | Promise) -> str:
    return mapping.get(key, str(empty)) if key is not None else str(empty)


SALES_ROLES = frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.ANALYST, Role.ADMIN})
SERVICE_ROLES = frozenset({Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ANALYST, Role.ADMIN})
COMPANY_ROLES = frozenset({Role.ANALYST, Role.ADMIN})


def load() -> None:
    """Imports the dashboard modules, each registering itself."""
    from analytics.dashboards import automation, customers, sales, service  # noqa: F401


__all__ = ["Dashboard", "for_user", "get", "load", "register"]
