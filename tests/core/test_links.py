"""Record links are what reverse() gives, under any script prefix, at a fraction of the cost."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from crm.core.links import record_url, route_url


@pytest.mark.parametrize(
    "name", ["customers:detail", "tickets:detail", "opportunities:move", "followups:task_record"]
)
def test_a_record_link_is_what_reverse_gives(name):
    for pk in (1, 42, 9_876_543_210, 12345678901234):
        assert record_url(name, pk) == reverse(name, args=[pk])


def test_a_record_link_follows_the_script_prefix():
    try:
        set_script_prefix("/crm/")
        assert (
            record_url("tickets:detail", 7)
            == "/crm/tickets/7/"
            == reverse("tickets:detail", args=[7])
        )
    finally:
        set_script_prefix("/")
    assert record_url("tickets:detail", 7) == "/tickets/7/"


def test_a_route_without_a_key_is_refused():
    with pytest.raises(NoReverseMatch):
        record_url("customers:list", 1)


def test_a_route_link_is_what_reverse_gives_under_any_prefix():
    assert route_url("customers:list") == reverse("customers:list")
    assert route_url("analytics:records", "leads") == reverse("analytics:records", args=["leads"])
    try:
        set_script_prefix("/crm/")
        assert route_url("customers:list") == "/crm/customers/"
    finally:
        set_script_prefix("/")
