"""Aggregates the dashboards share: percentiles in the database, calendar buckets, rates."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone


class Percentile(Aggregate):
    """``PERCENTILE_CONT(fraction) WITHIN GROUP (ORDER BY expression)`` (Postgres)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def percentiles(
    queryset: QuerySet[Any], fields: Iterable[str], by: str | None, fractions: Iterable[float]
) -> dict[str, dict[Hashable, list[float | None]]]:
    """``{field: {group: [p50, p90, …]}}`` of each of ``fields`` per value of ``by`` (one
    group, None, without); a group with no value of a field is left out of that field's.

    Postgres computes them in one grouped query, for all the fields in the same pass over the
    rows (its percentiles skip nulls, as the rows without a value of a field count for none of
    its groups). SQLite, the zero-install development database, has no percentile function:
    there the values are fetched and ranked here.
    """
    fields, fractions = list(fields), list(fractions)
    rows = queryset.order_by()
    result: dict[str, dict[Hashable, list[float | None]]] = {field: {} for field in fields}
    if connection.vendor == "postgresql":
        expressions = {
            f"p{number}_{index}": Percentile(field, fraction)
            for number, field in enumerate(fields)
            for index, fraction in enumerate(fractions)
        }
        grouped = (
            [{**rows.aggregate(**expressions), "group": None}]
            if by is None
            else rows.values(group=F(by)).annotate(**expressions)
        )
        for row in grouped:
            for number, field in enumerate(fields):
                found = [row[f"p{number}_{index}"] for index in range(len(fractions))]
                # Without a group, all zeros read as no figure, as they always have.
                if any(found) if by is None else found[0] is not None:
                    result[field][row["group"]] = found
        return result
    numbers: dict[str, dict[Hashable, list[float]]] = {field: defaultdict(list) for field in fields}
    for group, *values in rows.values_list(by or "pk", *fields):
        for field, value in zip(fields, values, strict=True):
            if value is not None:
                numbers[field][None if by is None else group].append(float(value))
    for field in fields:
        result[field] = {
            group: [_interpolated(sorted(found), fraction) for fraction in fractions]
            for group, found in numbers[field].items()
        }
    return result


def _interpolated(numbers: list[float], fraction: float) -> float:
    """PERCENTILE_CONT's definition: linear interpolation between the closest ranks."""
    position = fraction * (len(numbers) - 1)
    low, high = math.floor(position), math.ceil(position)
    return numbers[low] + (numbers[high] - numbers[low]) * (position - low)


BEFORE, AFTER = "before", "after"


class BucketOf(Func):
    """Which month (or day) of a list a moment falls in: ``WIDTH_BUCKET(field, ARRAY[starts])``,
    0 before the first, ``len(starts)`` in the last or after it.

    Comparing against the months' first moments (a binary search) costs a fraction of what
    ``DATE_TRUNC`` in the company's time zone costs per row, which over a year of follow-up
    records is most of the query. Other databases than Postgres get the same number from a
    ``CASE`` over the same starts.
    """

    output_field = IntegerField()

    def __init__(self, field: str, starts: list[Any], *, dates: bool) -> None:
        super().__init__(F(field))
        self.starts = starts
        self.dates = dates
        self.field_name = field

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        buckets = Case(
            *(
                When(**{f"{self.field_name}__lt": start}, then=Value(number))
                for number, start in enumerate(self.starts)
            ),
            default=Value(len(self.starts)),
            output_field=IntegerField(),
        )
        return compiler.compile(buckets.resolve_expression(compiler.query))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        placeholders = ", ".join(["%s"] * len(self.starts))
        kind = "date" if self.dates else "timestamptz"
        return f"WIDTH_BUCKET({sql}, ARRAY[{placeholders}]::{kind}[])", [*params, *self.starts]


def month_buckets(
    field: str, months: list[datetime.date], *, dates: bool = False
) -> tuple[BucketOf, Callable[[Any], str]]:
    """An expression putting ``field`` into ``months`` (their first days, in order) and the
    function that reads its value back as a month key (``2026-03``), or ``BEFORE`` / ``AFTER``
    the months for values outside them."""
    tz = timezone.get_current_timezone()
    starts: list[Any] = (
        list(months)
        if dates
        else [datetime.datetime.combine(month, datetime.time(), tzinfo=tz) for month in months]
    )
    keys = [f"{month:%Y-%m}" for month in months]

    def key_of(number: int) -> str:
        if number == 0:
            return BEFORE
        return keys[number - 1] if number <= len(keys) else AFTER

    return BucketOf(field, starts, dates=dates), key_of


def day_buckets(
    field: str, days: list[datetime.date]
) -> tuple[BucketOf, Callable[[Any], datetime.date | None]]:
    """Like ``month_buckets``, by day (a datetime field): the expression, and the function that
    reads its value back as the day, None before the first. Cheaper per row than ``by_day``'s
    date in the company's time zone."""
    tz = timezone.get_current_timezone()
    starts = [datetime.datetime.combine(day, datetime.time(), tzinfo=tz) for day in days]

    def day_of(number: int) -> datetime.date | None:
        return days[number - 1] if number else None

    return BucketOf(field, starts, dates=False), day_of


def by_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_current_timezone())


def rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide."""
    if not whole:
        return None
    return round(float(part) * 100 / float(whole), 1)


def hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 1)


def duration_days(field_from: str, field_to: str) -> Any:
    """A duration expression between two datetime fields, for Avg()."""
    return F(field_to) - F(field_from)
