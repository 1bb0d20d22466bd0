"""Links at a fraction of ``reverse()``'s cost, for the pages that print hundreds of them.

List pages link every row, a pipeline board every card twice (320 links), a dashboard every
point of its charts, and ``reverse()`` resolves each from the URL patterns again: ~35 µs a link,
a tenth of a busy page's Python. A route such as ``tickets/<int:pk>/`` is reversed once with a
stand-in key, and each record's link is that URL with its key put in place (``record_url``); a
link that repeats with the same arguments (the sidebar's entries, a dashboard's lists) is
reversed once (``route_url``). The script prefix and the URLconf are part of each memo's key, as
they are of ``reverse()``'s result.
"""

from __future__ import annotations

import functools

from django.urls import get_script_prefix, get_urlconf, reverse

_STAND_IN = 9_876_543_210


@functools.lru_cache(maxsize=512)
def _around(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[_STAND_IN], urlconf=urlconf)
    head, found, tail = url.rpartition(str(_STAND_IN))
    if not found:  # a route that does not print its key as given: no shortcut for it
        raise ValueError(f"{name} does not take a record's key")
    return head, tail


@functools.lru_cache(maxsize=1024)
def _reversed(name: str, args: tuple[str, ...], prefix: str, urlconf: str | None) -> str:
    return reverse(name, args=args, urlconf=urlconf)


def route_url(name: str, *args: str) -> str:
    """``reverse(name, args=args)``, for arguments from a small set (slugs, not record keys)."""
    return _reversed(name, args, get_script_prefix(), get_urlconf())


def record_url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a route whose only argument is an integer key."""
    head, tail = _around(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"
