"""Substring search that an index serves at any length.

Trigram (pg_trgm) indexes need three characters, and the commonest Chinese searches have one or
two (张, 华为, 张伟). For those, a searched field has on Postgres a GIN index of its characters
and pairs of adjacent characters, an expression index on ``crm_grams(UPPER(field))`` (the SQL
function of migration customers.0006): a text of one or two characters is in the field exactly
when it is one of the field's grams. The index answers that test alone, with nothing left to
check row by row, so thousands of matches cost little. Computed from the column, the index
needs nothing from the code that writes the rows (forms, imports by COPY, the scale data set).

The results are always ``icontains``'s (``contains``'s); only the SQL differs:

- Three characters or more: the lookup's own ``LIKE``, which the trigram index serves.
- One or two Chinese (not ASCII) characters: the grams alone.
- One or two ASCII characters (Latin letters, digits): the grams, and ``strpos`` before
  them. Latin letters are in most pinyin, so the customer search reads the table row by row,
  and ``strpos`` spares the function there. Never ``LIKE``: it could send Postgres to the
  trigram index, which for so short a text reads all of itself.
- A field of ASCII but for rare values (pinyin: ``mostly_ascii``) indexes only those values,
  the ones a Chinese text can be in; ASCII texts are tested by ``strpos`` alone.

Other databases run the plain lookup.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.db.models.lookups import Contains, IContains, PatternLookup

SHORT = 2  # what trigrams cannot serve
NOT_ASCII = r"[^\x01-\x7f]"  # as in the partial index of customers.0006


def is_short_chinese(text: str) -> bool:
    """Whether, on Postgres, the grams alone find ``text``, leaving nothing to test row by row."""
    return 0 < len(text) <= SHORT and not text.isascii()


class _Short(PatternLookup):
    """The Postgres SQL of ``contains`` and ``icontains`` for texts of one or two characters,
    both sides cast as the lookup casts them (``UPPER(…::text)`` for ``icontains``)."""

    mostly_ascii = False

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sql, params = self.as_sql(compiler, connection)
        if not isinstance(self.rhs, str) or not 0 < len(self.rhs) <= SHORT:
            return sql, list(params)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        text = connection.ops.lookup_cast(self.lookup_name) % "%s"
        found = f"strpos({lhs}, {text}) > 0"
        grams = f"crm_grams({lhs}) @> ARRAY[{text}]"
        if self.rhs.isascii() and self.mostly_ascii:
            return found, [*lhs_params, self.rhs]
        if self.rhs.isascii():
            return f"({found} AND {grams})", [*lhs_params, self.rhs, *lhs_params, self.rhs]
        grams_params = [*lhs_params, self.rhs]
        if self.mostly_ascii:
            # The partial index's condition, which a value holding this text meets.
            grams = f"{lhs} ~ '{NOT_ASCII}' AND {grams}"
            grams_params = [*lhs_params, *grams_params]
        # Exact while the text keeps its length in capitals (ß is SS under ICU); otherwise the
        # LIKE. Postgres folds the CASE when planning: the index sees the test alone.
        return (
            f"CASE WHEN char_length({text}) = %s THEN {grams} ELSE {sql} END",
            [self.rhs, len(self.rhs), *grams_params, *params],
        )


class _IContains(_Short, IContains):
    pass


class _Contains(_Short, Contains):
    pass


def icontains(field: str, text: str) -> Q:
    """``Q(<field>__icontains=text)``, served by the field's ``crm_grams(UPPER(…))`` index."""
    return Q(_IContains(F(field), text))


def contains(field: str, text: str, *, mostly_ascii: bool = False) -> Q:
    """``Q(<field>__contains=text)``, served by the field's ``crm_grams(…)`` index, partial
    (``WHERE field ~ NOT_ASCII``) for a field of ``mostly_ascii`` values."""
    lookup = _Contains(F(field), text)
    lookup.mostly_ascii = mostly_ascii
    return Q(lookup)
