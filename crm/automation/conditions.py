"""Evaluating a rule's conditions on a record: groups of AND-ed conditions, OR-ed together."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from crm.automation.models import Condition

Operator = Condition.Operator


def _names(value: Any) -> set[str]:
    """Every way an admin may write a value: its text, primary key, code and both names."""
    if value is None:
        return set()
    if isinstance(value, models.Model):
        names = {str(value), str(value.pk)}
        for attribute in ("code", "name", "name_en", "username", "value"):
            if getattr(value, attribute, ""):
                names.add(str(getattr(value, attribute)))
        return {name.casefold() for name in names}
    return {str(value).casefold()}


def field_value(record: models.Model, name: str) -> Any:
    """The record's value for a condition: a model, a list (many-to-many), or a plain value."""
    value = getattr(record, name, None)
    if isinstance(value, models.Manager):
        return list(value.all())
    return value


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def holds(condition: Condition, record: models.Model, changed: Iterable[str] = ()) -> bool:
    value = field_value(record, condition.field)
    expected = condition.value.strip()
    operator = condition.operator
    if operator in (Operator.IS_EMPTY, Operator.NOT_EMPTY):
        empty = value in (None, "", []) or (value == 0 and not isinstance(value, bool))
        return empty if operator == Operator.IS_EMPTY else not empty
    if operator == Operator.CHANGED_TO:
        return condition.field in set(changed) and expected.casefold() in _value_names(value)
    if operator in (Operator.GREATER, Operator.LESS):
        left, right = _number(value), _number(expected)
        if left is None or right is None:
            return False
        return left > right if operator == Operator.GREATER else left < right
    if operator == Operator.IN:
        options = {option.strip().casefold() for option in expected.split(",") if option.strip()}
        return bool(options & _value_names(value))
    if operator == Operator.CONTAINS:
        if isinstance(value, list):
            return expected.casefold() in _value_names(value)
        return expected.casefold() in str(value or "").casefold()
    matches = expected.casefold() in _value_names(value)
    return matches if operator == Operator.EQUALS else not matches


def _value_names(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_names(item) for item in value)) if value else set()
    return _names(value)


def matches(
    conditions: Iterable[Condition], record: models.Model, changed: Iterable[str] = ()
) -> bool:
    """No conditions: always. Otherwise any group whose conditions all hold."""
    groups: dict[int, list[Condition]] = {}
    for condition in conditions:
        groups.setdefault(condition.group, []).append(condition)
    if not groups:
        return True
    changed = list(changed)
    return any(
        all(holds(condition, record, changed) for condition in group) for group in groups.values()
    )
