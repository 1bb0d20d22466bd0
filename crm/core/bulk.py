"""Bulk inserts for imports and generated data: Postgres COPY, with primary keys taken from the
table's sequence first, so rows can be written with their children at once.

``bulk_create`` prepares every field of every object through the ORM and sends arrays; for a
100,000-row import that preparation took more time than the database. ``create_all`` writes the
same rows with COPY and prepares only the values that differ from the field's default, and
writes the objects' simple-history rows from the very same column values.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` primary keys from the table's sequence, so COPY can write children at once."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Writes rows with Postgres COPY (tens of thousands of rows a second). ``columns`` are
    database column names; values are Python values psycopg adapts (str for JSON columns).
    ``rows`` may be a generator, but one that runs no query: the connection is busy copying."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    count = 0
    # Errors as Django's (IntegrityError, DataError …): callers catch those, not psycopg's.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


class _Columns:
    """A model's columns as COPY writes them: each field's default, prepared once for the
    database, and what an object holds instead where it differs."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [field.column for field in self.fields]
        for field in self.fields:
            if isinstance(field, models.FileField):
                # Its pre_save stores the file: not something a COPY can do.
                raise TypeError(f"{model.__name__}.{field.name}: file fields are not supported")
        self.stamped = [
            field
            for field in self.fields
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        ]
        # The connection itself, not the proxy: fields look it up for every value they prepare.
        self.connection = connections[DEFAULT_DB_ALIAS]
        prototype = model()
        self.defaults = [getattr(prototype, field.attname) for field in self.fields]
        self.prepared = [
            field.get_db_prep_save(value, self.connection)
            for field, value in zip(self.fields, self.defaults, strict=True)
        ]
        self.fresh = [
            index
            for index, field in enumerate(self.fields)
            if field.has_default() and callable(field.default)
        ]
        self.index = {field.attname: index for index, field in enumerate(self.fields)}
        self.index.update({field.name: index for index, field in enumerate(self.fields)})

    def row(self, obj: models.Model) -> list[Any]:
        """``obj``'s row; only the values that differ from the defaults are prepared again."""
        for field in self.stamped:
            field.pre_save(obj, add=True)
        return [
            prepared
            if value is default or value == default
            else field.get_db_prep_save(value, self.connection)
            for field, value, default, prepared in zip(
                self.fields,
                [getattr(obj, field.attname) for field in self.fields],
                self.defaults,
                self.prepared,
                strict=True,
            )
        ]

    def of(self, given: dict[str, Any], now: datetime.datetime) -> tuple[list[Any], list[Any]]:
        """The attribute values and the row of an object holding ``given`` (by field name or
        attname, a foreign key as the object or its id) and its defaults otherwise."""
        values = list(self.defaults)
        row = list(self.prepared)
        for index in self.fresh:  # each object its own: a new dict, its own time
            values[index] = self.fields[index].get_default()
            row[index] = self.fields[index].get_db_prep_save(values[index], self.connection)
        for field in self.stamped:
            index = self.index[field.attname]
            values[index] = now
            row[index] = field.get_db_prep_save(now, self.connection)
        for name, value in given.items():
            index = self.index[name]
            if isinstance(value, models.Model):
                value = value.pk
            values[index] = value
            row[index] = self.fields[index].get_db_prep_save(value, self.connection)
        return values, row


@dataclass(frozen=True)
class History:
    """Who and when for the '+' history rows of what ``create_all`` or ``insert_values``
    writes, as ``bulk_history_create(default_user=…, default_date=…)`` takes them."""

    user: models.Model | None = None
    date: datetime.datetime | None = None


def create_all(objs: list[M], *, history: History | None = None) -> list[M]:
    """``bulk_create(objs)`` and, given ``history``, simple-history's ``bulk_history_create``:
    the objects get their primary keys and are saved as ``save()`` would save them (defaults,
    ``auto_now``, encryption, JSON). On Postgres with COPY; elsewhere through ``bulk_create``."""
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        if history is not None:
            model.history.bulk_history_create(  # type: ignore[attr-defined]
                objs, default_user=history.user, default_date=history.date
            )
        return objs
    from simple_history.utils import get_change_reason_from_object

    columns = _Columns(model)
    pk = model._meta.pk.attname
    for obj, key in zip(objs, reserve_ids(model, len(objs)), strict=True):
        setattr(obj, pk, key)
    rows: list[list[Any]] = []
    copy_rows(model, columns.names, _kept(rows, (columns.row(obj) for obj in objs)))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    if history is not None:
        date = history.date or timezone.now()
        _copy_history(
            model,
            columns,
            rows,
            [
                (
                    getattr(obj, "_history_user", history.user),
                    getattr(obj, "_history_date", date),
                    get_change_reason_from_object(obj) or "",
                )
                for obj in objs
            ],
        )
    return objs


def insert_values(
    model: type[models.Model], values: list[dict[str, Any]], *, history: History | None = None
) -> list[int]:
    """``create_all([model(**v) for v in values])`` for rows nobody reads back (contacts,
    events, tags): values by field name or attname. Returns the primary keys."""
    return [obj.pk for obj in create_from_values(model, values, history=history)]


def create_from_values(
    model: type[M], values: list[dict[str, Any]], *, history: History | None = None
) -> list[M]:
    """``create_all([model(**v) for v in values])``, without the cost of ``Model(**v)`` (most of
    an import's Python time went there): each row is made from the prepared defaults and the
    given values, and the objects are built from the same values, as a query builds them."""
    if not values:
        return []
    if connection.vendor != "postgresql":
        return create_all([model(**item) for item in values], history=history)
    columns = _Columns(model)
    pk = model._meta.pk.attname
    now = timezone.now()
    objects: list[list[Any]] = []
    rows: list[list[Any]] = []

    keys = reserve_ids(model, len(values))  # before the COPY: no other query during it

    def made() -> Iterator[list[Any]]:
        # Made as COPY takes them, so Postgres stores one while Python makes the next.
        for item, key in zip(values, keys, strict=True):
            object_values, row = columns.of({**item, pk: key}, now)
            objects.append(object_values)
            rows.append(row)
            yield row

    copy_rows(model, columns.names, made())
    if history is not None:
        who = (history.user, history.date or now, "")
        _copy_history(model, columns, rows, [who] * len(rows))
    return [model.from_db(connection.alias, None, object_values) for object_values in objects]


def _kept(kept: list[list[Any]], rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Hands rows to COPY as they are made, so Postgres stores the first while Python prepares
    the next, and keeps them for the history rows."""
    for row in rows:
        kept.append(row)
        yield row


def _copy_history(
    model: type[models.Model],
    columns: _Columns,
    rows: list[list[Any]],
    who: list[tuple[models.Model | None, datetime.datetime, str]],
) -> None:
    """The '+' rows ``bulk_history_create`` would write: each tracked column's value as the
    object's own row holds it (an encrypted value stays the same ciphertext), with the user,
    date and change reason of each row."""
    historical = model.history.model  # type: ignore[attr-defined]
    position = {name: index for index, name in enumerate(columns.names)}
    tracked = [position[field.column] for field in historical.tracked_fields]
    names = ["history_date", "history_change_reason", "history_type", "history_user_id"]
    names += [columns.names[index] for index in tracked]
    copy_rows(
        historical,
        names,
        (
            [date, reason, "+", getattr(user, "pk", None), *(row[index] for index in tracked)]
            for row, (user, date, reason) in zip(rows, who, strict=True)
        ),
    )
