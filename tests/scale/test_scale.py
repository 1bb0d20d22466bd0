"""The scale data set and the benchmark, at a small size."""

import json

import pytest
from django.core.management import CommandError, call_command

from crm.accounts.models import Team, User
from crm.core.crypto import decrypt
from crm.core.phones import phone_index, validate_phone
from customers.models import Contact, Customer, CustomerCategory
from followups.models import FollowUpRecord, FollowUpTask

pytestmark = pytest.mark.django_db


def _seed(**options: object) -> None:
    call_command("seed_scale", customers=200, stdout=open("/dev/null", "w"), **options)  # noqa: SIM115


def test_seed_scale_builds_a_repeatable_data_set():
    _seed(seed=7)
    assert User.objects.count() == 50
    assert Team.objects.filter(name="销售一组", parent__name="华东大区").exists()
    assert Customer.objects.count() == 200
    assert not Customer.objects.exclude(number__startswith="SC").exists()
    contacts = Contact.objects.count()
    assert 300 <= contacts <= 600
    assert Contact.objects.filter(is_primary=True).count() == 200
    contact = Contact.objects.exclude(phone="").first()
    validate_phone(contact.phone)  # decrypted by the field
    assert contact.phone_index == phone_index(contact.phone)
    assert contact.phone_last4 == contact.phone[-4:]
    assert FollowUpRecord.objects.count() > 500
    assert FollowUpTask.objects.filter(status=FollowUpTask.Status.PENDING).exists()
    names = list(Customer.objects.order_by("number").values_list("name", flat=True))

    _seed(seed=7)  # a second run replaces the data set with the same one
    assert Customer.objects.count() == 200
    assert list(Customer.objects.order_by("number").values_list("name", flat=True)) == names

    _seed(seed=8)
    assert list(Customer.objects.order_by("number").values_list("name", flat=True)) != names


def test_seed_scale_stores_phones_encrypted():
    _seed()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_contact WHERE phone <> '' LIMIT 1")
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:")
    validate_phone(decrypt(stored))


def test_seed_scale_refuses_a_database_with_real_data_unless_forced():
    real = Customer.objects.create(
        number="C20260101001", name="真实客户有限公司", category=CustomerCategory.objects.first()
    )
    with pytest.raises(CommandError, match="did not generate"):
        _seed()
    assert Customer.objects.count() == 1

    _seed(force=True)
    assert Customer.objects.count() == 201
    _seed(force=True)  # replaces only what it generated
    assert Customer.objects.count() == 201
    assert Customer.objects.filter(pk=real.pk).exists()


def test_bench_measures_every_page_and_job(tmp_path):
    _seed()
    call_command(
        "bench",
        requests=2,
        warmup=1,
        import_rows=30,
        output=str(tmp_path),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    report = json.loads((tmp_path / "latest.json").read_text())
    pages = {(row["page"], row["role"]): row for row in report["pages"]}
    assert ("customer list", "rep") in pages
    assert ("customer search: phone last 4", "manager") in pages
    assert ("calendar", "rep") in pages
    assert ("sales dashboard", "manager") in pages
    assert ("service dashboard", "agent") in pages
    assert ("automation dashboard, cached", "analyst") in pages
    assert all(row["status"] == 200 for row in report["pages"]), report["pages"]
    # The limit: 15 queries a page (the customer page's panels load after it).
    limits: dict[str, int] = {}
    too_many = [
        (row["page"], row["role"], row["queries"])
        for row in report["pages"]
        if row["queries"] > limits.get(row["page"], 15)
    ]
    assert too_many == []
    jobs = {row["job"]: row for row in report["jobs"]}
    assert jobs["customer import"]["result"] == 30
    assert "reminders: before tasks" in jobs
    # Everything the jobs wrote was rolled back.
    assert Customer.objects.count() == 200


def test_bench_needs_the_data_set():
    with pytest.raises(CommandError, match="seed_scale"):
        call_command("bench", requests=1, warmup=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
