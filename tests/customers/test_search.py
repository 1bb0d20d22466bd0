"""Short searches (crm.core.search): one or two characters find exactly what ``icontains`` and
``contains`` find, by the grams indexes on Postgres; whatever writes the rows, the index keeps
up, and the search pages still cost their pinned queries."""

from itertools import product

import pytest
from django.db import connection
from django.urls import reverse

from crm.core.search import contains, icontains
from customers import services
from customers.models import Contact, Customer, CustomerTag, DemandTag
from tickets.models import Ticket

# Chinese, Latin in both cases, a space, the LIKE wildcards and escape, and ß (SS in capitals
# under ICU, itself under libc).
ALPHABET = "华为张伟aAbBßä _%\\"
NAMES = [
    "华为科技有限公司",
    "Huawei华为",
    "HUAWEI Ltd",
    "张伟",
    "张 伟",
    "伟张",
    "为华",
    "a_b%c\\d",
    "Straße",
    "STRASSE",
    "Ab华为B",
    "bbb",
    "Äb华",  # pinyin äbhua: not ASCII, in the partial index
]
TERMS = [*ALPHABET, *("".join(pair) for pair in product(ALPHABET, repeat=2)), "华为科", "a_b"]


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def named(alice, make_customer) -> list[Customer]:
    customers = [make_customer(alice, name=name, phone="") for name in NAMES]
    for customer, name in zip(customers, reversed(NAMES), strict=True):
        services.contact_add(customer=customer, by=alice, name=name)
    return customers


@pytest.mark.parametrize("term", TERMS)
def test_short_texts_find_what_icontains_and_contains_find(named, term):
    customers, contacts = Customer.objects.all(), Contact.objects.all()
    assert ids(customers.filter(icontains("name", term))) == ids(
        customers.filter(name__icontains=term)
    )
    assert ids(customers.filter(contains("name", term))) == ids(
        customers.filter(name__contains=term)
    )
    assert ids(customers.filter(contains("name", term, mostly_ascii=True))) == ids(
        customers.filter(name__contains=term)
    )
    assert ids(contacts.filter(icontains("name", term))) == ids(
        contacts.filter(name__icontains=term)
    )


def reference_search(text: str) -> set[int]:
    """What the customer search finds, from the plain lookups one by one."""
    text = text.strip()
    lowered = text.casefold()
    found = ids(Customer.objects.filter(number__iexact=text))
    found |= ids(Customer.objects.filter(name__icontains=text))
    if len(lowered) <= 2 and lowered.isascii():  # a pinyin's start, for one or two letters
        found |= ids(Customer.objects.filter(name_pinyin__startswith=lowered))
    else:
        found |= ids(Customer.objects.filter(name_pinyin__contains=lowered))
    found |= ids(Customer.objects.filter(name_initials__startswith=lowered))
    found |= set(Contact.objects.filter(name__icontains=text).values_list("customer", flat=True))
    found |= set(CustomerTag.objects.filter(tag__name=text).values_list("customer", flat=True))
    return found


@pytest.mark.parametrize(
    "term",
    ["华", "华为", "张伟", "伟", "hw", "h", "HU", "huawei", "ß", "ä", "äb", "_", "%", "华为科"],
)
def test_the_customer_search_finds_what_each_lookup_finds(named, term):
    tagged = named[0]
    tag, _created = DemandTag.objects.get_or_create(name=term)
    CustomerTag.objects.create(customer=tagged, tag=tag)
    assert ids(Customer.objects.search(term)) == reference_search(term)
    assert tagged.pk in ids(Customer.objects.search(term))


class TestTheIndexKeepsUp:
    """Expression indexes: the database computes them from the rows, however written."""

    def test_a_renamed_customer_is_found_by_its_new_name(self, alice, make_customer):
        customer = make_customer(alice, name="华为科技")
        assert ids(Customer.objects.search("华为")) == {customer.pk}
        services.customer_update(customer=customer, by=alice, changes={"name": "中兴通讯"})
        assert ids(Customer.objects.search("华为")) == set()
        assert ids(Customer.objects.search("中兴")) == {customer.pk}
        assert ids(Customer.objects.search("zx")) == {customer.pk}  # initials

    def test_a_renamed_contact_is_found_by_its_new_name(self, alice, make_customer):
        customer = make_customer(alice, name="杭州示例")
        contact = customer.contacts.get()
        services.contact_update(contact=contact, by=alice, changes={"name": "张伟"})
        assert ids(Customer.objects.search("张伟")) == {customer.pk}
        assert ids(Customer.objects.search("张")) == {customer.pk}

    def test_imported_customers_are_found_by_two_characters(self, manager, enterprise):
        rows = [
            services.NewCustomer(
                fields={"name": f"宁波海纳{index}号", "category": enterprise},
                contacts=[{"name": f"李{index}娜"}],
            )
            for index in range(3)
        ]
        created = services.customers_bulk_create(rows=rows, by=manager)  # COPY on Postgres
        assert ids(Customer.objects.search("海纳")) == {customer.pk for customer in created}
        assert ids(Customer.objects.search("1娜")) == {created[1].pk}


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the grams indexes are Postgres's"
)


@postgres_only
@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: Customer.objects.filter(icontains("name", "华为")), "customer_name_grams"),
        (lambda: Customer.objects.filter(icontains("name", "华")), "customer_name_grams"),
        (
            lambda: Customer.objects.filter(contains("name_pinyin", "华", mostly_ascii=True)),
            "customer_pinyin_grams",
        ),
        (lambda: Contact.objects.filter(icontains("name", "张伟")), "contact_name_grams"),
        (lambda: Contact.objects.filter(icontains("name", "Zh")), "contact_name_grams"),
        (lambda: Ticket.objects.filter(icontains("subject", "卡纸")), "ticket_subject_grams"),
        (
            lambda: Ticket.objects.filter(icontains("contact_name", "女士")),
            "ticket_contact_name_grams",
        ),
    ],
)
def test_short_texts_are_answered_by_the_grams_indexes(db, queryset, index):
    # The test tables are small: left only bitmap scans, the plan shows whether the index's
    # expression matches the query's.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    assert index in queryset().order_by().explain()


def test_one_or_two_latin_letters_find_a_pinyin_by_its_start(alice, make_customer):
    li = make_customer(alice, name="李氏贸易", phone="")  # lishimaoyi
    make_customer(alice, name="北京利华", phone="")  # beijinglihua: "li" inside
    assert ids(Customer.objects.search("li")) == {li.pk}
    assert ids(Customer.objects.search("LI")) == {li.pk}
    assert ids(Customer.objects.search("lih")) != {li.pk}  # three letters: anywhere


@postgres_only
@pytest.mark.parametrize("text", ["hw", "h", "Zh"])
def test_a_latin_search_of_one_or_two_letters_is_read_from_indexes(named, text):
    # Each arm of the OR is an index scan; only the rows they find are checked again.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Customer.objects.search(text).order_by().explain()
    assert "BitmapOr" in plan
    assert "Seq Scan on customers_customer " not in plan, plan


@postgres_only
@pytest.mark.parametrize("text", ["华为", "华"])
def test_a_chinese_search_leaves_nothing_to_test_row_by_row(named, text):
    # Every arm of the OR is an index's answer, so the thousands of customers one character
    # finds are not tested again, arm by arm (InSubquery's arrays one by one).
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    lines = Customer.objects.search(text).order_by().explain().splitlines()
    scan = next(n for n, line in enumerate(lines) if "Heap Scan on customers_customer  " in line)
    node = lines[scan + 1 : next(n for n in range(scan + 1, len(lines)) if "->" in lines[n])]
    assert [line for line in node if "Recheck Cond:" in line]
    assert not [line for line in node if "Filter:" in line], "\n".join(lines)


def test_the_search_page_costs_the_lists_queries(
    client_for, manager, alice, make_customer, django_assert_num_queries
):
    for index in range(3):
        make_customer(alice, name=f"华为{index}", phone=f"1380000{index:04d}")
    client = client_for(manager)
    client.get(reverse("customers:list"), {"q": "华为"})
    # session, user, roles, team tree, count, unread count, saved views, the page of customers,
    # their primary contacts and their tags: the list's 10, for one character or two.
    for text in ("华为", "华", "hw"):
        with django_assert_num_queries(10):
            response = client.get(reverse("customers:list"), {"q": text})
        assert "华为0" in response.content.decode()
