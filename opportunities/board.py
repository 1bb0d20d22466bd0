"""The kanban board's read model: one column per active stage with its count, amount and
weighted amount over every matching opportunity, and the first cards of each column (the most
recently moved). Two queries whatever the number of opportunities (the stages come from the
cache)."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, Sum

from crm.accounts.models import User
from crm.core.choices import cached_rows
from crm.core.links import record_url
from opportunities.models import Opportunity, Stage

# A column shows its most recently moved deals; the rest are a click away in the list. Fifty a
# column rendered 400 cards (a quarter of a second of template work) on a pipeline of any size.
CARDS_PER_COLUMN = 20
# What a card shows (the board template): a narrow row, read as values.
CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "expected_close_date",
    "stage_id",
    "stage_entered_at",
    "customer__name",
    "owner__last_name",
    "owner__first_name",
    "owner__username",
)
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Card:
    """An opportunity as its card shows it. Read as plain values, not as an opportunity with its
    customer and owner: three model instances a card cost ~70 µs, 12 ms a board."""

    pk: int
    name: str
    amount: Decimal
    expected_close_date: datetime.date | None
    stage_id: int
    stage_entered_at: datetime.datetime
    customer_name: str
    owner_name: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Card:
        *deal, customer, last_name, first_name, username = row
        return cls(*deal, customer, User.name_from(last_name, first_name, username))

    def get_absolute_url(self) -> str:
        return record_url("opportunities:detail", self.pk)


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal(0)
    cards: list[Card] = field(default_factory=list)

    @property
    def weighted(self) -> Decimal:
        return (self.amount * self.stage.probability / Decimal(100)).quantize(CENTS)

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


def board_columns(opportunities: QuerySet[Opportunity]) -> list[Column]:
    """``opportunities`` is already scoped and filtered."""
    stages = cached_rows(Stage.objects.filter(is_active=True))
    columns = {stage.pk: Column(stage) for stage in stages}
    totals = (
        opportunities.order_by()
        .values("stage_id")
        .annotate(number=Count("id"), total=Sum("amount"))
        .values_list("stage_id", "number", "total")
    )
    for stage_id, count, amount in totals:
        if stage_id in columns:
            columns[stage_id].count = count
            columns[stage_id].amount = amount or Decimal(0)
    # The first cards of each column: one indexed top-N per stage, glued with UNION ALL. A
    # window over all matching opportunities sorted every row of the pipeline's history
    # (0.5 s at 50,000 deals).
    parts = [
        opportunities.filter(stage_id=stage_id)
        .order_by("-stage_entered_at", "-pk")
        .values_list(*CARD_FIELDS)[:CARDS_PER_COLUMN]
        for stage_id in columns
    ]
    if not parts:
        rows: Iterable[tuple[Any, ...]] = []
    elif connection.features.supports_slicing_ordering_in_compound:
        rows = parts[0].union(*parts[1:], all=True)
    else:  # SQLite takes no LIMIT inside a compound statement: a query a column there
        rows = itertools.chain.from_iterable(parts)
    for card in map(Card.from_row, rows):
        if card.stage_id in columns:
            columns[card.stage_id].cards.append(card)
    for column in columns.values():
        column.cards.sort(key=lambda card: (card.stage_entered_at, card.pk), reverse=True)
    return list(columns.values())
