import pytest
from django.core.management import call_command

from crm.core.phones import MOBILE_RE
from customers.demo import COUNT, demo_customers
from customers.models import Contact, Customer, CustomerTag, LeadInquiry, SourceChannel


@pytest.fixture
def seed_demo(db, settings):
    settings.DEBUG = True

    def run() -> None:
        call_command("seed_demo", stdout=None)

    return run


def counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        CustomerTag.objects.count(),
        LeadInquiry.objects.count(),
        Customer.history.count(),
    )


def test_seed_demo_creates_a_few_hundred_customers_spread_over_the_dictionaries(seed_demo):
    seed_demo()

    customers = Customer.objects.all()
    assert customers.count() >= 300
    assert customers.values("industry").distinct().count() >= 5
    assert customers.values("region").distinct().count() >= 4
    assert set(customers.values_list("source", flat=True)) == set(
        SourceChannel.objects.values_list("pk", flat=True)
    )
    assert set(customers.values_list("type", flat=True)) == set(Customer.Type.values)
    assert set(customers.values_list("owner__username", flat=True)) == {
        "rep1",
        "rep2",
        "manager",
        None,
    }
    unassigned = customers.filter(owner=None)
    assert 10 <= unassigned.count() <= 30
    assert set(unassigned.values_list("status", flat=True)) == {Customer.Status.TO_BE_ASSIGNED}
    assert customers.exclude(value_tier="").count() == customers.count()
    oldest = customers.order_by("created_at").first()
    newest = customers.order_by("created_at").last()
    assert (newest.created_at - oldest.created_at).days >= 300


def test_demo_contacts_have_valid_mobile_numbers(seed_demo):
    seed_demo()

    contacts = list(Contact.objects.all())
    assert len(contacts) > Customer.objects.count()
    assert all(MOBILE_RE.match(contact.phone) for contact in contacts)
    assert any(contact.email for contact in contacts)
    assert any(contact.birthday for contact in contacts)
    assert Customer.objects.filter(contacts__isnull=True).count() == 0


def test_demo_names_are_found_by_pinyin(seed_demo):
    seed_demo()

    assert Customer.objects.search("chongqing").filter(name="重庆长行机械有限公司").exists()
    assert Customer.objects.search("hqkj").filter(name="华启科技有限公司").exists()


def test_running_seed_demo_twice_keeps_the_same_counts(seed_demo):
    seed_demo()
    before = counts()

    seed_demo()

    assert counts() == before


def test_the_demo_draws_the_same_customers_every_time():
    first, second = demo_customers(), demo_customers()

    assert first == second
    assert len({customer.name for customer in first}) == COUNT
