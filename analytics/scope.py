"""What a dashboard covers: whose records (the visibility contract, narrowed to a team or a
person), over which dates, broken down by which dimension.

Every figure starts from a model's ``visible_to(user)``: a rep's dashboard counts only their
records, a manager's their team's. The scope also writes the drill-down URLs, so the list behind
a chart point is built from the same filter as the point itself.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from crm.accounts.models import Team, User
from crm.accounts.roles import Level
from crm.core.links import route_url

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class Scope:
    user: User
    start: datetime.date
    end: datetime.date  # inclusive
    team: Team | None = None
    owner: User | None = None
    by: str = ""
    # The filter as it came in the query string, normalised: what drill-down links carry.
    params: dict[str, str] = field(default_factory=dict)

    # Time ---------------------------------------------------------------------------------

    @property
    def tz(self) -> datetime.tzinfo:
        return timezone.get_current_timezone()

    def moment(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(), tzinfo=self.tz)

    @property
    def start_at(self) -> datetime.datetime:
        return self.moment(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        """The first moment after the range."""
        return self.moment(self.end + datetime.timedelta(days=1))

    def in_range(self, field_name: str) -> Q:
        """Times in the range (a datetime field) or days (a date field, ``__date`` not needed)."""
        return Q(**{f"{field_name}__gte": self.start_at, f"{field_name}__lt": self.end_at})

    def days_in_range(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.start, f"{field_name}__lte": self.end})

    def months(self) -> list[datetime.date]:
        """The first day of each month the range touches."""
        months = []
        month = self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months

    def days(self) -> Iterator[datetime.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += datetime.timedelta(days=1)

    # Whose records ------------------------------------------------------------------------

    @property
    def team_ids(self) -> frozenset[int] | None:
        """The chosen team and its sub-teams, or None when no team is chosen."""
        if self.team is None:
            return None
        return Team.objects.tree().subtree({self.team.pk})

    def narrow(self, queryset: QuerySet[Any], owner_field: str = "owner") -> QuerySet[Any]:
        """The records of the chosen person or team, among those already visible."""
        if self.owner is not None:
            return queryset.filter(**{owner_field: self.owner})
        if self.team is not None:
            return queryset.filter(**{f"{owner_field}__team_id__in": self.team_ids})
        return queryset

    @property
    def scope_key(self) -> str:
        """Whose figures these are, for the cache: users who see everything share one entry;
        anyone else's figures depend on who they are (their team, their shared records)."""
        if self.user.visibility.level == Level.ALL:
            return "all"
        return f"user-{self.user.pk}"

    def cache_key(self, dashboard: str) -> str:
        filters = urlencode(sorted(self.params.items()))
        digest = hashlib.blake2b(
            f"{self.scope_key}|{filters}|{translation.get_language()}".encode(), digest_size=12
        ).hexdigest()
        return f"analytics:{dashboard}:{self.scope_key}:{digest}"

    # Links --------------------------------------------------------------------------------

    def query(self, **extra: Any) -> str:
        point = {key: str(value) for key, value in extra.items() if value != ""}
        if point.keys() & self.params.keys():
            return urlencode({**self.params, **point})
        # A dashboard links a few hundred points: the filter is encoded once, each point's
        # own values after it (the same string as encoding both at once).
        return "&".join(part for part in (self._encoded_params, urlencode(point)) if part)

    @functools.cached_property
    def _encoded_params(self) -> str:
        return urlencode(self.params)

    def drill(self, dataset: str, **point: Any) -> str:
        """The list of the records behind a point of a chart."""
        return f"{route_url('analytics:records', dataset)}?{self.query(**point)}"


def month_key(day: datetime.date | datetime.datetime) -> str:
    return f"{day:%Y-%m}"
