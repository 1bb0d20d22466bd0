"""Forecast sums against hand-computed figures."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from opportunities import forecast, services
from opportunities.models import Opportunity, Order, SalesTarget

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 2, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def pipeline(alice, bob, charlie, make_customer, make_opportunity):
    """March: alice proposal 100,000 (60%) + negotiation 50,000 (80%); bob lead 10,000 (10%).
    April: charlie needs 200,000 (40%). alice's won order of 30,000 signed in March."""
    with time_machine.travel(NOW, tick=False):
        customer = make_customer(alice)
        march = datetime.date(2026, 3, 15)
        make_opportunity(customer, alice, "proposal", "100000", expected_close_date=march)
        make_opportunity(customer, alice, "negotiation", "50000", expected_close_date=march)
        make_opportunity(
            make_customer(bob, "乙公司"), bob, "lead", "10000", expected_close_date=march
        )
        make_opportunity(
            make_customer(charlie, "丙公司"),
            charlie,
            "needs_confirmed",
            "200000",
            expected_close_date=datetime.date(2026, 4, 2),
        )
        won = make_opportunity(customer, alice, "negotiation", "30000", expected_close_date=march)
        services.order_create(
            opportunity=won, by=alice, amount=Decimal("30000"), signed_on=datetime.date(2026, 3, 3)
        )
    SalesTarget.objects.create(month=datetime.date(2026, 3, 9), amount=Decimal("120000"))


def test_by_month(pipeline, admin_user):
    targets = forecast.monthly_targets(admin_user, 2026)
    months = forecast.by_month(
        Opportunity.objects.visible_to(admin_user),
        Order.objects.visible_to(admin_user),
        targets,
        2026,
    )
    march, april = months[2], months[3]

    assert march.amount == Decimal("160000")
    assert march.weighted == Decimal("60000") + Decimal("40000") + Decimal("1000")
    assert march.won == Decimal("30000")
    assert march.commit == Decimal("30000") + Decimal("50000")
    assert march.best_case == Decimal("80000") + Decimal("100000")
    assert march.target == Decimal("120000")
    assert march.attainment == 25
    assert april.weighted == Decimal("80000")
    assert april.commit == april.best_case == Decimal(0)
    assert months[0].amount == months[0].weighted == Decimal(0)


def test_by_owner_and_team_within_what_the_manager_sees(pipeline, alice, bob, manager, team_a):
    opportunities = Opportunity.objects.visible_to(manager)
    orders = Order.objects.visible_to(manager)

    owners = {row.label: row for row in forecast.by_owner(opportunities, orders, 2026)}
    teams = forecast.by_team(list(owners.values()))

    assert set(owners) == {alice, bob}
    assert owners[alice].weighted == Decimal("100000")
    assert owners[alice].won == Decimal("30000")
    assert owners[bob].weighted == Decimal("1000")
    assert [(row.label, row.weighted) for row in teams] == [(team_a, Decimal("101000"))]
