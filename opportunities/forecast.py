"""The forecast (销售预测): weighted pipeline (amount × stage probability) by month of expected
close, by owner and by team; commit and best case; won against target per month.

- commit = won (orders signed in the month) + the open amount of stages in the commit category;
- best case = commit + the open amount of stages in the best-case category;
- won vs target compares signed orders with the month's target for the scope shown.

Every figure is one grouped query, whatever the number of opportunities; the teams are the
owners summed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import ExtractMonth

from crm.accounts.models import Team, User
from crm.accounts.roles import Level
from opportunities.models import Opportunity, Order, SalesTarget, Stage
from opportunities.models.pipeline import MONEY

ZERO = Decimal(0)
CENTS = Decimal("0.01")
Category = Stage.ForecastCategory
WEIGHTED = ExpressionWrapper(
    F("amount") * F("stage__probability") / Decimal(100), output_field=DecimalField(**MONEY)
)


@dataclass
class Row:
    """One line of the forecast: a month, an owner or a team."""

    label: Any
    amount: Decimal = ZERO  # open pipeline
    weighted: Decimal = ZERO
    won: Decimal = ZERO
    committed: Decimal = ZERO  # open, commit category
    best: Decimal = ZERO  # open, best-case category
    target: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def commit(self) -> Decimal:
        return self.won + self.committed

    @property
    def best_case(self) -> Decimal:
        return self.commit + self.best

    @property
    def weighted_rounded(self) -> Decimal:
        return self.weighted.quantize(CENTS)

    @property
    def attainment(self) -> int | None:
        if not self.target:
            return None
        return int(self.won * 100 / self.target)


def _add_open(rows: dict[Any, Row], key: Any, category: str, amount: Any, weighted: Any) -> None:
    row = rows[key]
    row.amount += amount or ZERO
    row.weighted += weighted or ZERO
    if category == Category.COMMIT:
        row.committed += amount or ZERO
    elif category == Category.BEST_CASE:
        row.best += amount or ZERO


def _open_by(opportunities: QuerySet[Opportunity], key: Any) -> Any:
    return (
        opportunities.open()  # type: ignore[attr-defined]
        .order_by()
        .values_list(key, "stage__forecast_category")
        .annotate(total=Sum("amount"), weighted_total=Sum(WEIGHTED))
    )


def by_month(
    opportunities: QuerySet[Opportunity],
    orders: QuerySet[Order],
    targets: dict[int, Decimal],
    year: int,
) -> list[Row]:
    rows = {month: Row(datetime.date(year, month, 1)) for month in range(1, 13)}
    in_year = opportunities.filter(expected_close_date__year=year).annotate(
        month=ExtractMonth("expected_close_date")
    )
    for month, category, amount, weighted in _open_by(in_year, "month"):
        _add_open(rows, month, category, amount, weighted)
    won = (
        orders.filter(signed_on__year=year)
        .annotate(month=ExtractMonth("signed_on"))
        .order_by()
        .values_list("month")
        .annotate(total=Sum("amount"))
    )
    for month, total in won:
        rows[month].won += total or ZERO
    for month, target in targets.items():
        rows[month].target = target
    return list(rows.values())


def by_owner(opportunities: QuerySet[Opportunity], orders: QuerySet[Order], year: int) -> list[Row]:
    rows: dict[int, Row] = defaultdict(lambda: Row(None))
    in_year = opportunities.filter(expected_close_date__year=year)
    for owner_id, category, amount, weighted in _open_by(in_year, "owner_id"):
        _add_open(rows, owner_id, category, amount, weighted)
    won = (
        orders.filter(signed_on__year=year)
        .order_by()
        .values_list("owner_id")
        .annotate(total=Sum("amount"))
    )
    for owner_id, total in won:
        rows[owner_id].won += total or ZERO
    users = User.objects.in_bulk(list(rows))
    for owner_id, row in rows.items():
        row.label = users.get(owner_id)
    return sorted(rows.values(), key=lambda row: -row.weighted)


def by_team(owner_rows: list[Row]) -> list[Row]:
    """The owners' rows (``by_owner``) summed by the owner's team: no second pair of grouped
    queries over the pipeline."""
    rows: dict[int | None, Row] = defaultdict(lambda: Row(None))
    for owner in owner_rows:
        row = rows[owner.label.team_id if owner.label is not None else None]
        row.amount += owner.amount
        row.weighted += owner.weighted
        row.won += owner.won
        row.committed += owner.committed
        row.best += owner.best
    teams = Team.objects.in_bulk([key for key in rows if key is not None])
    for team_id, row in rows.items():
        row.label = teams.get(team_id) if team_id is not None else None
    return sorted(rows.values(), key=lambda row: -row.weighted)


def monthly_targets(
    user: User, year: int, *, owner: User | None = None, team: Team | None = None
) -> dict[int, Decimal]:
    """The month's target for the scope on screen: the chosen owner's or team's; otherwise the
    company's for those who see everything, the teams' they manage, or the rep's own."""
    targets = SalesTarget.objects.filter(month__year=year)
    if owner is not None:
        targets = targets.filter(owner=owner)
    elif team is not None:
        targets = targets.filter(team=team, owner__isnull=True)
    else:
        visibility = user.visibility
        if visibility.level == Level.ALL:
            targets = targets.filter(team__isnull=True, owner__isnull=True)
        elif visibility.team_ids:
            targets = targets.filter(team_id__in=visibility.team_ids, owner__isnull=True)
        else:
            targets = targets.filter(owner=user)
    rows = (
        targets.annotate(number=ExtractMonth("month"))
        .order_by()
        .values_list("number")
        .annotate(total=Sum("amount"))
    )
    return dict(rows)
