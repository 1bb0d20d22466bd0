"""Every URL of the project, probed by every role: 200 within scope, 404 outside it, sign-in for
anonymous visitors, never a 500 and never team A's data in an outsider's page.

The URL patterns are read from the resolver, not from a list kept by hand: a new URL without an
entry in a ``matrix_<app>.py`` module fails ``test_every_url_has_an_entry``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.conftest import SCRIPT, matrix_modules
from tests.security.matrix import OUTSIDERS, ROLES, Entry, Outcome

SKIPPED_NAMESPACES = {"admin"}  # Django admin: staff only, guarded by Django itself


def url_names(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[str]:
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES:
                continue
            inner = pattern.namespace or ""
            yield from url_names(pattern, f"{namespace}:{inner}".strip(":") if inner else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def entries() -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
    for module in matrix_modules():
        for name, entry in module.ENTRIES.items():
            assert name not in merged, f"{name} has two matrix entries"
            merged[name] = entry
    return merged


ENTRIES = entries()
PROBES = [
    pytest.param(name, method, id=f"{method} {name}")
    for name, entry in sorted(ENTRIES.items())
    for method in ("get", "post")
    if getattr(entry, method) is not None
]


def test_every_url_has_an_entry():
    names = set(url_names())
    missing = sorted(names - ENTRIES.keys())
    stale = sorted(ENTRIES.keys() - names)
    assert not missing, f"URLs without a matrix entry: {missing}"
    assert not stale, f"matrix entries for URLs that no longer exist: {stale}"


def outcome(response) -> Outcome | int:  # type: ignore[no-untyped-def]
    status = response.status_code
    if status in {301, 302, 303}:
        return Outcome.LOGIN if response["Location"].startswith(reverse("login")) else Outcome.OK
    if status < 300:
        return Outcome.OK
    known = {404: Outcome.NOT_FOUND, 403: Outcome.FORBIDDEN, 503: Outcome.UNAVAILABLE}
    return known.get(status, Outcome.REFUSED if 400 <= status < 500 else status)


@pytest.mark.parametrize(("name", "method"), PROBES)
def test_each_role_gets_what_its_scope_allows(name, method, world):
    entry = ENTRIES[name]
    expected = getattr(entry, method)
    url = reverse(name, kwargs=entry.kwargs(world)) + entry.query(world)
    results = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.get(url) if method == "get" else client.post(url, entry.post_data(world))
        got = outcome(response)
        assert got != 500, f"{method.upper()} {url} as {role}: server error"
        results[role] = got
        if getattr(response, "streaming", False):
            continue
        body = response.content.decode(errors="replace")
        assert SCRIPT not in body, f"{method.upper()} {url} as {role}: unescaped stored script"
        if role in OUTSIDERS:
            leaked = [secret for secret in world.secrets if secret in body]
            assert not leaked, f"{method.upper()} {url} as {role} shows {leaked}"
    mismatches = {
        role: f"expected {expected[role]}, got {getattr(got, 'value', got)}"
        for role, got in results.items()
        if got
        not in (expected[role] if isinstance(expected[role], frozenset) else {expected[role]})
    }
    assert not mismatches, f"{method.upper()} {url}: {mismatches}"
