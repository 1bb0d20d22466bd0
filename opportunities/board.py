"""The kanban board's read model: one column per active stage with its count, amount and
weighted amount over every matching opportunity, and the first cards of each column. Three
queries whatever the number of opportunities."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from crm.core.choices import cached_rows
from opportunities.models import Opportunity, Stage

CARDS_PER_COLUMN = 50
CENTS = Decimal("0.01")


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal(0)
    cards: list[Opportunity] = field(default_factory=list)

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
    cards = (
        opportunities.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("stage_id"),
                order_by=[F("stage_entered_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=CARDS_PER_COLUMN)
        .select_related("customer", "owner")
        .order_by("-stage_entered_at", "-pk")
    )
    for card in cards:
        if card.stage_id in columns:
            columns[card.stage_id].cards.append(card)
    return list(columns.values())
