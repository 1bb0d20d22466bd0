"""What rules can do: action types that domain apps register for their records.

    registry.register(ActionType(
        code="customers.assign_owner",
        label=_("Assign an owner"),
        model="customers.customer",
        apply=assign_owner,          # (record, action, run) -> str, raises ActionError
        describe=describe_assign,    # (record, action) -> str, changes nothing ("try it")
        is_assignment=True,
    ))

An action that cannot do its work raises ``ActionError`` with a message for the run log; the
engine records it and moves on to the next rule. Platform actions (notify) apply to any record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.db import models

    from crm.automation.models import Action


class ActionError(Exception):
    """An action could not be carried out; the message goes to the run log."""


@dataclass
class RunContext:
    """What actions share while one rule runs for one event."""

    event: Any
    rule: Any
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ActionType:
    code: str
    label: str | Promise
    apply: Callable[[models.Model, Action, RunContext], str]
    describe: Callable[[models.Model, Action], str]
    # "app_label.model" the action applies to, or "" for any record.
    model: str = ""
    # Which Action fields the admin form requires for this type.
    required: tuple[str, ...] = ()
    is_assignment: bool = False
    # Called outside the failed action's rolled-back savepoint, to leave a trace on the record
    # (a lead whose assignment failed shows why).
    on_error: Callable[[models.Model, str], None] | None = None
    # Checks an action's settings in the admin form (cleaned data); raises ValidationError.
    clean: Callable[[dict[str, Any]], None] | None = None


_actions: dict[str, ActionType] = {}


def register(action_type: ActionType) -> None:
    _actions[action_type.code] = action_type


def action(code: str) -> ActionType:
    try:
        return _actions[code]
    except KeyError as error:
        raise LookupError(f"No action type {code!r} is registered.") from error


def actions() -> list[ActionType]:
    return sorted(_actions.values(), key=lambda action_type: action_type.code)
