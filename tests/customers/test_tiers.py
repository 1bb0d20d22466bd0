import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.core.models import DomainEvent
from customers import tiers
from customers.events import CUSTOMER_CHANGED
from customers.models import Customer, LeadInquiry, TierSettings
from customers.tasks import recompute_tiers

NOW = datetime.datetime(2026, 3, 2, 2, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def recompute():
    def run() -> int:
        return tiers.tiers_recompute(now=NOW)

    return run


@pytest.fixture
def add_inquiries(exhibition):
    def add(customer: Customer, count: int, *, days_ago: int = 10) -> None:
        LeadInquiry.objects.bulk_create(
            LeadInquiry(
                customer=customer,
                source=exhibition,
                contact_name="王经理",
                captured_at=NOW - datetime.timedelta(days=days_ago, hours=index),
            )
            for index in range(count)
        )

    return add


def refreshed(customer: Customer) -> Customer:
    customer.refresh_from_db()
    return customer


def lost_events(customer: Customer) -> list[DomainEvent]:
    return list(DomainEvent.objects.filter(name=CUSTOMER_CHANGED, object_id=customer.pk))


@pytest.mark.parametrize(
    ("amount", "tier"),
    [
        ("500000", "high"),
        ("499999.99", "medium"),
        ("100000", "medium"),
        ("99999.99", "low"),
        ("0", "low"),
    ],
)
def test_value_tier_follows_the_thresholds_at_their_boundaries(
    alice, make_customer, recompute, amount, tier
):
    customer = make_customer(alice, annual_amount=Decimal(amount))

    recompute()

    assert refreshed(customer).value_tier == tier
    assert customer.tiers_computed_at == NOW


@pytest.mark.parametrize(
    ("inquiries", "tier"), [(18, "high"), (17, "medium"), (6, "medium"), (5, "low"), (0, "low")]
)
def test_activity_tier_averages_inquiries_over_six_months(
    alice, make_customer, add_inquiries, recompute, inquiries, tier
):
    customer = make_customer(alice)
    add_inquiries(customer, inquiries)

    recompute()

    assert refreshed(customer).activity_tier == tier


def test_inquiries_older_than_six_months_do_not_count(
    alice, make_customer, add_inquiries, recompute
):
    customer = make_customer(alice)
    add_inquiries(customer, 5, days_ago=30)
    add_inquiries(customer, 30, days_ago=200)

    recompute()

    assert refreshed(customer).activity_tier == "low"


def test_a_won_customer_without_cooperation_for_three_months_turns_lost(
    alice, make_customer, recompute
):
    customer = make_customer(
        alice,
        type=Customer.Type.WON,
        lifecycle=Customer.Lifecycle.COOPERATING,
        last_cooperation_at=NOW - datetime.timedelta(days=100),
    )

    assert recompute() == 1

    customer = refreshed(customer)
    assert (customer.type, customer.lifecycle) == (Customer.Type.LOST, Customer.Lifecycle.LOST)
    [event] = lost_events(customer)
    assert event.payload == {"changed": ["type", "lifecycle"]}
    assert customer.history.first().type == Customer.Type.LOST


def test_a_won_customer_with_recent_cooperation_stays_won(alice, make_customer, recompute):
    customer = make_customer(
        alice,
        type=Customer.Type.WON,
        lifecycle=Customer.Lifecycle.COOPERATING,
        last_cooperation_at=NOW - datetime.timedelta(days=80),
    )

    recompute()

    customer = refreshed(customer)
    assert (customer.type, customer.lifecycle) == (
        Customer.Type.WON,
        Customer.Lifecycle.COOPERATING,
    )
    assert lost_events(customer) == []


def test_a_won_customer_without_any_cooperation_date_stays_won(alice, make_customer, recompute):
    customer = make_customer(alice, type=Customer.Type.WON)

    recompute()

    assert refreshed(customer).type == Customer.Type.WON


def test_a_registered_cooperation_source_dates_a_won_customer_without_one(
    alice, make_customer, recompute
):
    old = make_customer(alice, name="甲公司", type=Customer.Type.WON)
    recent = make_customer(alice, name="乙公司", type=Customer.Type.WON)

    def newest_won_orders(customer_ids: list[int]) -> dict[int, datetime.datetime]:
        dates = {
            old.pk: NOW - datetime.timedelta(days=120),
            recent.pk: NOW - datetime.timedelta(days=20),
        }
        return {pk: dates[pk] for pk in customer_ids if pk in dates}

    tiers.register_cooperation_source(newest_won_orders)
    try:
        recompute()
    finally:
        tiers.unregister_cooperation_source(newest_won_orders)

    assert refreshed(old).type == Customer.Type.LOST
    assert refreshed(recent).type == Customer.Type.WON


def test_running_the_job_twice_changes_nothing_the_second_time(alice, make_customer, add_inquiries):
    rich = make_customer(alice, name="甲公司", annual_amount=Decimal("800000"))
    add_inquiries(rich, 20)
    lapsed = make_customer(
        alice,
        name="乙公司",
        type=Customer.Type.WON,
        last_cooperation_at=NOW - datetime.timedelta(days=200),
    )
    make_customer(alice, name="丙公司")

    assert recompute_tiers.delay().get() == 3
    stamps = dict(Customer.objects.values_list("pk", "updated_at"))

    assert recompute_tiers.delay().get() == 0

    assert dict(Customer.objects.values_list("pk", "updated_at")) == stamps
    assert len(lost_events(lapsed)) == 1
    assert refreshed(lapsed).history.count() == 2  # created, then turned lost


def test_a_changed_figure_changes_the_tier_on_the_next_run(alice, make_customer, recompute):
    customer = make_customer(alice, annual_amount=Decimal("50000"))
    recompute()
    Customer.objects.filter(pk=customer.pk).update(annual_amount=Decimal("150000"))

    assert recompute() == 1

    assert refreshed(customer).value_tier == "medium"


def test_tier_settings_changed_in_admin_take_effect(
    client_for, admin_user, alice, make_customer, add_inquiries, recompute
):
    customer = make_customer(
        alice,
        annual_amount=Decimal("300000"),
        type=Customer.Type.WON,
        last_cooperation_at=NOW - datetime.timedelta(days=60),
    )
    add_inquiries(customer, 6)
    recompute()
    assert (refreshed(customer).value_tier, customer.activity_tier) == ("medium", "medium")

    response = client_for(admin_user).post(
        reverse("admin:customers_tiersettings_change", args=[TierSettings.load().pk]),
        {
            "high_value_from": "200000",
            "medium_value_from": "50000",
            "high_activity_per_month": "1",
            "medium_activity_per_month": "1",
            "lost_after_months": "1",
        },
    )
    assert response.status_code == 302
    recompute()

    customer = refreshed(customer)
    assert (customer.value_tier, customer.activity_tier) == ("high", "high")
    assert customer.type == Customer.Type.LOST


def test_a_registered_value_source_is_summed_with_the_others(alice, make_customer, recompute):
    customer = make_customer(alice, annual_amount=Decimal("60000"))

    def won_orders(since: datetime.datetime) -> dict[int, Decimal]:
        assert since == NOW - datetime.timedelta(days=365)
        return {customer.pk: Decimal("440000")}

    tiers.register_value_source(won_orders)
    try:
        recompute()
    finally:
        tiers.unregister_value_source(won_orders)

    assert refreshed(customer).value_tier == "high"


def test_a_registered_activity_source_is_summed_with_the_others(
    alice, make_customer, add_inquiries, recompute
):
    customer = make_customer(alice)
    add_inquiries(customer, 2)

    def follow_up_records(since: datetime.datetime) -> dict[int, int]:
        return {customer.pk: 4}

    tiers.register_activity_source(follow_up_records)
    try:
        recompute()
    finally:
        tiers.unregister_activity_source(follow_up_records)

    assert refreshed(customer).activity_tier == "medium"


def test_it_recomputes_in_a_bounded_number_of_queries(
    alice, make_customer, add_inquiries, django_assert_num_queries
):
    for index, amount in enumerate(["0", "150000", "600000"] * 4):
        customer = make_customer(alice, name=f"客户{index}", annual_amount=Decimal(amount))
        add_inquiries(customer, index)

    # tier settings, annual amounts, won-order amounts (opportunities), inquiry counts,
    # follow-up record counts, the one chunk, a savepoint around the chunk's writes, one UPDATE
    # per tier combination (6 here, whatever the customer count), its release
    with django_assert_num_queries(14):
        assert tiers.tiers_recompute(now=NOW) == 12
