import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_decide
from crm.core.models import DomainEvent
from customers import services
from customers.models import Contact, Customer, CustomerLevel, RevealLog
from customers.names import normalize_name, pinyin_forms


def test_a_new_customer_gets_a_daily_number_and_its_rep_as_owner(alice, enterprise):
    customer = services.customer_create(by=alice, name="杭州云启科技有限公司", category=enterprise)
    assert re.fullmatch(r"C\d{8}\d{3}", customer.number)
    assert customer.owner == alice
    assert customer.status == Customer.Status.FOLLOWING
    assert customer.assigned_at is not None
    event = DomainEvent.objects.get(name="customer.created", object_id=customer.pk)
    assert event.payload["owner"] == alice.pk


def test_without_an_owner_a_customer_waits_to_be_assigned(manager, enterprise):
    customer = services.customer_create(by=manager, name="无主客户", category=enterprise)
    assert customer.owner is None
    assert customer.status == Customer.Status.TO_BE_ASSIGNED


def test_the_categorys_default_owner_takes_customers_created_by_non_reps(manager, bob, enterprise):
    enterprise.default_owner = bob
    enterprise.save()
    customer = services.customer_create(by=manager, name="默认负责人", category=enterprise)
    assert customer.owner == bob


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华为科技有限公司", "华为科技"),
        ("华为科技股份有限公司", " 华为 科技 "),
        ("ＡＢＣ贸易有限公司", "abc贸易"),
        ("Acme Co., Ltd.", "ACME"),
        ("上海（浦东）电子有限责任公司", "上海浦东电子"),
    ],
)
def test_names_compare_without_case_width_spaces_or_legal_form(a, b):
    assert normalize_name(a) == normalize_name(b)


def test_pinyin_forms_support_initials_and_full_pinyin():
    assert pinyin_forms("华为科技") == ("huaweikeji", "hwkj")


class TestSearch:
    @pytest.fixture
    def customers(self, alice, make_customer):
        return {
            "huawei": make_customer(alice, name="华为科技有限公司", phone="13812345678"),
            "other": make_customer(alice, name="杭州西湖贸易", phone="13987654321"),
        }

    @pytest.mark.parametrize(
        "query", ["hwkj", "huaweikeji", "华为", "5678", "13812345678", "138 1234 5678", "王经理"]
    )
    def test_finds_by_name_pinyin_phone_and_contact(self, customers, query):
        found = set(Customer.objects.search(query).values_list("name", flat=True))
        assert "华为科技有限公司" in found
        if query not in {"王经理"}:
            assert "杭州西湖贸易" not in found

    def test_finds_by_number(self, customers):
        number = customers["other"].number
        assert list(Customer.objects.search(number)) == [customers["other"]]


def test_phone_and_address_are_encrypted_at_rest(alice, make_customer):
    customer = make_customer(alice, phone="13812345678", address="浙江省杭州市文三路 90 号")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM customers_contact WHERE customer_id = %s", [customer.pk])
        (phone,) = cursor.fetchone()
        cursor.execute("SELECT address FROM customers_customer WHERE id = %s", [customer.pk])
        (address,) = cursor.fetchone()
    assert "5678" not in phone
    assert "文三路" not in address
    assert Contact.objects.get(customer=customer).phone == "13812345678"


class TestDuplicates:
    def test_the_owner_sees_the_matching_record(self, alice, alices_customer):
        found = services.find_duplicates(user=alice, name="杭州示例科技")
        assert found.visible == [alices_customer]
        assert found.hidden_count == 0

    def test_another_team_only_learns_that_a_match_exists(self, charlie, alices_customer):
        found = services.find_duplicates(user=charlie, phones=["+86 138-1234-5678"])
        assert found.visible == []
        assert found.hidden_count == 1
        assert found

    def test_email_matches_too(self, alice, make_customer):
        customer = make_customer(alice, phone="")
        services.contact_add(customer=customer, by=alice, name="李", email="li@example.com")
        assert services.find_duplicates(user=alice, emails=["LI@example.com"]).visible == [customer]

    def test_no_match_is_falsy(self, alice, alices_customer):
        assert not services.find_duplicates(user=alice, name="完全不同的名字")


class TestKeyFieldChanges:
    def test_a_reps_key_field_change_waits_for_the_team_head(self, alice, manager, alices_customer):
        level = CustomerLevel.objects.get(name="A 级")
        customer, request = services.customer_update(
            customer=alices_customer,
            by=alice,
            changes={"level": level, "annual_amount": Decimal("80000"), "notes": "新备注"},
            reason="年度评级",
        )
        customer.refresh_from_db()
        assert customer.level is None
        assert customer.annual_amount == 0
        assert customer.notes == "新备注"  # ordinary fields change at once
        assert request.approver == manager
        assert {c["field"] for c in request.payload["changes"]} == {"level", "annual_amount"}

        approval_decide(request=request, by=manager, approve=True)

        customer.refresh_from_db()
        assert customer.level == level
        assert customer.annual_amount == Decimal("80000")
        assert customer.history.latest().history_user == alice

    def test_a_manager_changes_key_fields_directly(self, manager, alices_customer, bob):
        _, request = services.customer_update(
            customer=alices_customer, by=manager, changes={"owner": bob}
        )
        assert request is None
        alices_customer.refresh_from_db()
        assert alices_customer.owner == bob

    def test_a_denied_change_leaves_the_customer_as_it_was(self, alice, manager, alices_customer):
        _, request = services.customer_update(
            customer=alices_customer, by=alice, changes={"annual_amount": Decimal("1")}
        )
        approval_decide(request=request, by=manager, approve=False, note="不同意")
        alices_customer.refresh_from_db()
        assert alices_customer.annual_amount == 0

    def test_making_another_contact_primary_is_a_key_change(self, alice, manager, alices_customer):
        second = services.contact_add(customer=alices_customer, by=alice, name="二号", phone="")
        _, request = services.contact_update(contact=second, by=alice, changes={"is_primary": True})
        second.refresh_from_db()
        assert not second.is_primary
        approval_decide(request=request, by=manager, approve=True)
        second.refresh_from_db()
        assert second.is_primary
        assert alices_customer.contacts.filter(is_primary=True).count() == 1


class TestDeletion:
    def test_deleting_needs_a_sales_managers_approval(self, alice, manager, alices_customer):
        request = services.customer_delete_request(
            customer=alices_customer, by=alice, reason="重复录入"
        )
        assert request.approver == manager
        assert Customer.objects.filter(pk=alices_customer.pk).exists()
        approval_decide(request=request, by=manager, approve=True)
        assert not Customer.objects.filter(pk=alices_customer.pk).exists()
        assert Customer.history.filter(id=alices_customer.pk, history_type="-").exists()

    def test_a_reason_is_required(self, alice, manager, alices_customer):
        with pytest.raises(ValidationError):
            services.customer_delete_request(customer=alices_customer, by=alice, reason=" ")


class TestReveal:
    def test_the_owner_line_can_reveal_and_each_reveal_is_logged(
        self, alice, manager, alices_customer
    ):
        contact = alices_customer.contacts.get()
        assert services.reveal(
            customer=alices_customer, by=alice, field="phone", contact=contact
        ) == ("13812345678")
        services.reveal(customer=alices_customer, by=manager, field="phone", contact=contact)
        log = list(RevealLog.objects.values_list("user__username", "field"))
        assert sorted(log) == [("alice", "phone"), ("manager", "phone")]

    def test_a_colleague_outside_the_owner_line_cannot(self, bob, alices_customer):
        alices_customer.shared_with.add(bob)
        with pytest.raises(PermissionDenied):
            services.reveal(customer=alices_customer, by=bob, field="address")
        assert not RevealLog.objects.exists()


def test_bulk_updates_are_for_managers_only(alice, manager, bob, alices_customer):
    with pytest.raises(PermissionDenied):
        services.customers_bulk_update(customers=[alices_customer], by=alice, owner=bob)
    services.customers_bulk_update(customers=[alices_customer], by=manager, owner=bob)
    alices_customer.refresh_from_db()
    assert alices_customer.owner == bob
    assert bob.notifications.filter(verb="customer_assigned").exists()


def test_pending_request_state_is_visible_to_the_approval_list(alice, manager, alices_customer):
    services.customer_delete_request(customer=alices_customer, by=alice, reason="x")
    assert ApprovalRequest.objects.pending().filter(approver=manager).count() == 1


def test_bulk_creation_matches_single_creation(alice, enterprise, exhibition):
    from customers.models import DemandTag

    tag = DemandTag.objects.get(name="采购设备")
    rows = [
        services.NewCustomer(
            fields={
                "name": f"批量客户{index}有限公司",
                "category": enterprise,
                "source": exhibition,
            },
            contacts=[{"name": "甲", "phone": f"1390000000{index}", "email": ""}],
            tags=[tag, tag],
        )
        for index in range(3)
    ]
    created = services.customers_bulk_create(rows=rows, by=alice)

    numbers = [customer.number for customer in created]
    assert len(set(numbers)) == 3
    first = Customer.objects.get(pk=created[0].pk)
    assert first.owner == alice
    assert first.name_initials == "plkh0yxgs"
    assert first.contacts.get().is_primary
    assert first.contacts.get().phone_last4 == "0000"
    assert list(first.tags.all()) == [tag]
    assert first.history.get().history_user == alice
    assert DomainEvent.objects.filter(name="customer.created").count() == 3
    assert Customer.objects.search("13900000001").get() == created[1]
