"""Links to one record by route name and primary key, at a fraction of ``reverse()``'s cost.

List pages link every row, a pipeline board every card twice (320 links), and ``reverse()``
resolves each from the URL patterns again: ~35 µs a link, a tenth of a busy page's Python. A
route such as ``tickets/<int:pk>/`` is reversed once with a stand-in key, and each record's link
is that URL with its key put in place. The script prefix and the URLconf are part of the memo's
key, as they are of ``reverse()``'s result.
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


def record_url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a route whose only argument is an integer key."""
    head, tail = _around(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"
