"""The customers each owner has (``OwnerCount``), kept by Postgres triggers, and the count of
an unfiltered customer list taken from them: always the count of what ``visible_to`` lists."""

import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from crm.accounts.models import User
from crm.accounts.roles import Role
from customers.models import Customer, OwnerCount
from customers.services import NewCustomer, customer_assign, customers_bulk_create

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the counts are kept by Postgres triggers"
)


def counted_by_owner():
    rows = Customer.objects.values_list("owner_id").annotate(n=Count("*"))
    return {owner or OwnerCount.POOL: n for owner, n in rows}


def kept():
    return dict(OwnerCount.objects.exclude(customers=0).values_list("owner_key", "customers"))


@pytest.fixture
def readers(alice, bob, charlie, manager, agent, analyst, admin_user):
    return [alice, bob, charlie, manager, agent, analyst, admin_user]


def assert_counts_hold(readers):
    assert kept() == counted_by_owner()
    for user in readers:
        user = User.objects.get(pk=user.pk)  # roles and visibility read afresh
        assert Customer.objects.count_visible_to(user) == (
            Customer.objects.visible_to(user).count()
        ), user.username


def test_counts_follow_creates_transfers_the_pool_shares_and_deletes(
    readers, alice, bob, charlie, manager, make_customer, enterprise
):
    mine = [make_customer(alice, name=f"杭州东方机械{index}有限公司") for index in range(3)]
    theirs = make_customer(charlie, name="苏州北辰科技有限公司")
    assert_counts_hold(readers)

    customer_assign(customer=mine[0], owner=charlie, by=manager)  # a saved transfer
    Customer.objects.filter(pk=mine[1].pk).update(owner=None)  # to the pool, one UPDATE
    theirs.shared_with.add(alice)  # shared beyond alice's own: counted once
    mine[2].shared_with.add(bob)  # shared within bob's team: already counted
    assert_counts_hold(readers)

    customers_bulk_create(  # an import: one COPY
        rows=[
            NewCustomer(fields={"name": f"宁波西湖电子{index}有限公司", "category": enterprise})
            for index in range(4)
        ],
        by=bob,
    )
    Customer.objects.filter(owner=bob).update(owner=alice)  # every one of bob's, one UPDATE
    Customer.objects.filter(pk=mine[2].pk).delete()
    assert_counts_hold(readers)


def test_a_user_who_leaves_the_managers_loses_the_pool(readers, manager, alice, make_customer):
    make_customer(alice)
    Customer.objects.update(owner=None)
    assert Customer.objects.count_visible_to(manager) == 1
    manager.groups.clear()
    manager.groups.add(*User.objects.get(pk=alice.pk).groups.all())  # a rep now
    manager = User.objects.get(pk=manager.pk)
    assert Role.SALES_MANAGER not in manager.roles
    assert Customer.objects.count_visible_to(manager) == 0
    assert_counts_hold(readers)


def test_the_unfiltered_list_counts_its_pages_from_the_owners_counts(
    client_for, manager, alice, charlie, make_customer, django_assert_num_queries, monkeypatch
):
    from customers.views import customers as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for index in range(3):
        make_customer(alice, name=f"杭州东方机械{index}有限公司")
    make_customer(charlie, name="苏州北辰科技有限公司")  # team B's: not the manager's
    client = client_for(manager)
    url = reverse("customers:list")
    client.get(url)
    with django_assert_num_queries(10) as queries:
        response = client.get(url)
    assert any("customers_ownercount" in q["sql"] for q in queries.captured_queries)
    assert "第 1–2 条，共 3 条" in response.text
    assert "第 3–3 条，共 3 条" in client.get(url, {"page": 2, "ordering": "name"}).text
    # Narrowed by a search or a filter, the list counts its rows.
    with django_assert_num_queries(10) as queries:
        response = client.get(url, {"q": "东方"})
    assert not any("customers_ownercount" in q["sql"] for q in queries.captured_queries)
    assert "第 1–2 条，共 3 条" in response.text
