"""The drill-down lists: the records behind a chart point.

A dataset names its records for a scope and the point's parameters (``?month=2026-03&source=4``)
with the same queryset its chart aggregates, so a bar that says 12 opens a list of 12. Each list
starts from the model's ``visible_to(user)``; its dashboard's roles decide who may open it.
Parameters that do not parse are a 404, like a record outside the scope.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from analytics.charts import Unit
from analytics.scope import Scope


class BadPointError(ValueError):
    """A drill-down parameter that does not name a point of the chart."""


@dataclass(frozen=True)
class Column:
    label: str | Promise
    value: Callable[[Any], Any]
    unit: Unit | None = None


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str | Promise
    dashboard: str
    records: Callable[[Scope, Mapping[str, str]], QuerySet[Any]]
    columns: list[Column]
    # The list shows contact names or phone numbers: its export needs approval.
    contact_data: bool = False
    link: Callable[[Any], str] = lambda row: row.get_absolute_url()


_datasets: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    _datasets[dataset.key] = dataset
    return dataset


def get(key: str) -> Dataset:
    return _datasets[key]


# --- parsing a point's parameters -----------------------------------------------------------


def number(params: Mapping[str, str], name: str) -> int | None:
    """An id parameter; ``none`` means "without one" (returned as 0)."""
    value = params.get(name, "")
    if value == "":
        return None
    if value == "none":
        return 0
    try:
        return int(value)
    except ValueError as error:
        raise BadPointError(name) from error


def choice(params: Mapping[str, str], name: str, allowed: Any) -> str | None:
    value = params.get(name, "")
    if value == "":
        return None
    if value not in allowed:
        raise BadPointError(name)
    return value


def by_id(queryset: QuerySet[Any], params: Mapping[str, str], name: str, field: str) -> Any:
    """Filters on ``field`` by the id parameter ``name`` (``none``: the field is empty)."""
    value = number(params, name)
    if value is None:
        return queryset
    if value == 0:
        return queryset.filter(**{f"{field}__isnull": True})
    return queryset.filter(**{field: value})


def _period(params: Mapping[str, str]) -> tuple[datetime.date, datetime.date] | None:
    """The month (``2026-03``) or day (``2026-03-02``) a point stands for."""
    try:
        if month := params.get("month"):
            start = datetime.date.fromisoformat(f"{month}-01")
            end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
            return start, end
        if day := params.get("day"):
            start = datetime.date.fromisoformat(day)
            return start, start
    except ValueError as error:
        raise BadPointError("month") from error
    return None


def within(scope: Scope, params: Mapping[str, str], field: str, *, dates: bool = False) -> Q:
    """The scope's date range on ``field``, narrowed to the point's month or day."""
    start, end = scope.start, scope.end
    if (period := _period(params)) is not None:
        start, end = max(start, period[0]), min(end, period[1])
    if dates:
        return Q(**{f"{field}__gte": start, f"{field}__lte": end})
    after = scope.moment(start)
    before = scope.moment(end + datetime.timedelta(days=1))
    return Q(**{f"{field}__gte": after, f"{field}__lt": before})


def all_datasets() -> dict[str, Dataset]:
    return dict(_datasets)
