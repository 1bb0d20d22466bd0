"""Daily document numbers: prefix + date + a sequence of at least three digits (C20240515001)."""

import datetime

from django.db import connection
from django.utils import timezone

from crm.core.models import DailySequence

# One statement both creates the day's row and bumps it: the row lock taken by the upsert
# serialises concurrent callers, so no two ever read the same value (Postgres and SQLite alike).
TABLE = DailySequence._meta.db_table
UPSERT = f"""
    INSERT INTO {TABLE} (prefix, day, last_value) VALUES (%s, %s, %s)
    ON CONFLICT (prefix, day) DO UPDATE SET last_value = {TABLE}.last_value + EXCLUDED.last_value
    RETURNING last_value
"""  # noqa: S608 - the table name is ours, the values are parameters


def next_number(prefix: str, *, day: datetime.date | None = None) -> str:
    """The next number of the day for ``prefix`` in the company's time zone.

    Numbers are never handed out twice, even across deletions; after 999 the sequence simply
    grows a digit (C202405151000). Called inside the caller's transaction, a rollback returns the
    number unused, so there are no gaps from failed saves.
    """
    return next_numbers(prefix, 1, day=day)[0]


def next_numbers(prefix: str, count: int, *, day: datetime.date | None = None) -> list[str]:
    """``count`` consecutive numbers in one statement, for bulk creation (imports)."""
    if count < 1:
        return []
    day = day or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [prefix, day, count])
        (last,) = cursor.fetchone()
    return [f"{prefix}{day:%Y%m%d}{value:03d}" for value in range(last - count + 1, last + 1)]
