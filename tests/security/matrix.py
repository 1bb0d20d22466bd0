"""The access matrix's vocabulary: the roles that probe every URL, the outcomes they may get, and
the entry each URL pattern must have (``matrix_<app>.py`` modules hold them).

A URL's entry says how to build its address from the world (records owned by alice in team A)
and, per method, which outcome each role gets. The shorthand scopes below cover most URLs;
an entry overrides single roles with ``{**OWNER_LINE, "analyst": FORBIDDEN}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# The probing roles, outsiders first: their POSTs must change nothing before insiders run theirs.
ROLES = ["anonymous", "charlie", "bob", "agent", "supervisor", "analyst", "manager", "alice"]
# Who is outside team A's sales line: their bodies must never show team A's records.
OUTSIDERS = {"anonymous", "charlie", "agent", "supervisor"}


class Outcome(Enum):
    OK = "ok"  # 2xx, or a redirect that is not to sign-in
    NOT_FOUND = "404"
    FORBIDDEN = "403"
    LOGIN = "login"  # redirect to the sign-in page
    REFUSED = "4xx"  # another client error: 400, 405, 429 (bad input, throttled)
    UNAVAILABLE = "503"  # the health check while beat or the broker is not running


OK, NOT_FOUND, FORBIDDEN, LOGIN, REFUSED = (
    Outcome.OK,
    Outcome.NOT_FOUND,
    Outcome.FORBIDDEN,
    Outcome.LOGIN,
    Outcome.REFUSED,
)

# One outcome per role, or a set of them where the environment decides (the health check).
Expect = dict[str, Outcome | frozenset[Outcome]]

PUBLIC: Expect = dict.fromkeys(ROLES, OK)
# Sales work: reps and managers; the service desk and analysts are refused.
SALES: Expect = {
    **dict.fromkeys(ROLES, OK),
    "anonymous": LOGIN,
    "agent": FORBIDDEN,
    "supervisor": FORBIDDEN,
    "analyst": FORBIDDEN,
}
SIGNED_IN: Expect = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}
# A record of alice's: alice, her manager and the analyst (who reads everything) see it.
OWNER_LINE: Expect = {
    "anonymous": LOGIN,
    "charlie": NOT_FOUND,
    "bob": NOT_FOUND,
    "agent": NOT_FOUND,
    "supervisor": NOT_FOUND,
    "analyst": OK,
    "manager": OK,
    "alice": OK,
}
# Changing alice's record: the analyst may see it, so is told no (403) rather than 404.
OWNER_LINE_WRITE: Expect = {**OWNER_LINE, "analyst": FORBIDDEN}
# Something only alice has (her saved view, her notification).
ALICE_ONLY: Expect = {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "alice": OK}


@dataclass
class Entry:
    """How to reach one URL pattern and what each role gets, per method (None: not probed,
    because the method is not the URL's: a GET-only page answers POST with 405 for everyone)."""

    kwargs: Callable[[Any], dict[str, Any]] = lambda world: {}
    get: Expect | None = None
    post: Expect | None = None
    post_data: Callable[[Any], dict[str, Any]] = lambda world: {}
    query: Callable[[Any], str] = lambda world: ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
