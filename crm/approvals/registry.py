"""Kinds of approval that domain apps plug in: what an approved request does, and who decides.

approvals.registry.register(ApprovalKind(
    code="customers.customer_change",
    label=_("Customer key-field change"),
    apply=apply_customer_change,
))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise

if TYPE_CHECKING:
    from crm.accounts.models import User
    from crm.approvals.models import ApprovalRequest


@dataclass(frozen=True)
class ApprovalKind:
    code: str
    label: str | Promise
    # Runs inside the transaction that approves the request; raising ValidationError refuses it.
    apply: Callable[[ApprovalRequest], None]
    # Who decides a request by this requester; by default the head of their team line.
    approver: Callable[[User], User | None] | None = None


_kinds: dict[str, ApprovalKind] = {}


def register(kind: ApprovalKind) -> None:
    _kinds[kind.code] = kind


def get(code: str) -> ApprovalKind:
    try:
        return _kinds[code]
    except KeyError as error:
        raise LookupError(f"No approval kind {code!r} is registered.") from error
