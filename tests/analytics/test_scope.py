"""The scope's drill-down links: the filter as it came, then the point's own values."""

import datetime
from urllib.parse import urlencode

from django.urls import reverse

from analytics.scope import Scope


def scope_of(user, **params):
    day = datetime.date(2026, 6, 1)
    return Scope(user=user, start=day, end=day, params=params)


def test_a_point_s_link_carries_the_filter_and_the_point(alice):
    scope = scope_of(alice, period="30d", by="rep")
    url = scope.drill("closed", month="2026-06", outcome="lost", reason="")
    assert url == (
        f"{reverse('analytics:records', args=['closed'])}"
        f"?{urlencode({'period': '30d', 'by': 'rep', 'month': '2026-06', 'outcome': 'lost'})}"
    )


def test_a_point_s_value_replaces_the_filter_s_in_its_place(alice):
    scope = scope_of(alice, period="30d", by="rep", team="3")
    assert scope.query(by="team", month="2026-06") == "period=30d&by=team&team=3&month=2026-06"
    assert scope.query() == "period=30d&by=rep&team=3"
    assert scope_of(alice).query(day="2026-06-01") == "day=2026-06-01"
