"""The dashboards' counts from the daily rollups (``RecordDay``, ``TaskDay`` for the customers
dashboard, ``StageDay`` for the sales dashboard's time in stage), which Postgres triggers keep
exact (migrations ``analytics.0002`` and ``0003``); other databases count the rows."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from analytics.models import RecordDay, StageDay, TaskDay
from analytics.scope import Scope


def available() -> bool:
    return connection.vendor == "postgresql"


def rebuild() -> None:
    """Recounts the rollups from their sources (the migrations and a change of time zone do it
    themselves; this is for repairs)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT analytics_rollups_rebuild()")


def _days(queryset: QuerySet[Any], scope: Scope, last: datetime.date) -> QuerySet[Any]:
    rows = scope.narrow(queryset.visible_to(scope.user))
    return rows.filter(day__gte=scope.start, day__lte=last)


def record_days(scope: Scope) -> QuerySet[RecordDay]:
    """The scope's record counts per day, owner and method."""
    return _days(RecordDay.objects.all(), scope, scope.end)


def stage_days(scope: Scope) -> QuerySet[StageDay]:
    """The scope's stays that ended on each day of the period, per owner (of the opportunity,
    now) and stage."""
    return _days(StageDay.objects.all(), scope, scope.end)


def task_counts(scope: Scope) -> QuerySet[TaskDay]:
    """Per owner, the tasks that fell due in the scope's days before today (today's are still
    falling due: the caller counts them from the tasks)."""
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return (
        _days(TaskDay.objects.all(), scope, min(scope.end, yesterday))
        .values_list("owner_id")
        .annotate(on_time=Sum("on_time"), late=Sum("late"), missed=Sum("missed"))
        .order_by()
    )
