"""Reading what people type or post where the CRM expects something narrower."""

from __future__ import annotations

# A 64-bit key has at most 19 digits; 18 always fit.
KEY_DIGITS = 18


def as_pk(value: object) -> int | None:
    """A record's key typed or posted as text ("12"), or None for anything else: other
    characters, digits outside ASCII ("²" passes ``str.isdigit`` and fails ``int``), or more
    digits than a key holds (``int`` refuses 4,301 of them outright)."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= KEY_DIGITS):
        return None
    return int(text)
