"""Hostile posts to the archive's forms (customer create and edit, with custom fields; contact
create and edit): whatever arrives, the answer is a saved record or a form error the page
shows, never a 500, and nothing that was saved before changes unless the form says it saved."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from customers.forms import ContactForm, CustomerForm
from customers.models import Contact, Customer, CustomerTag, CustomField
from tests.customers.test_views import customer_form_data
from tests.hostile import HOSTILE, explained, field_map, hostile_post, rows, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def custom_fields(db) -> list[CustomField]:
    return [
        CustomField.objects.create(key="staff", label="员工人数", type=CustomField.Type.NUMBER),
        CustomField.objects.create(key="founded", label="成立日期", type=CustomField.Type.DATE),
        CustomField.objects.create(
            key="grade", label="信用等级", type=CustomField.Type.CHOICE, choices="A\nB\nC"
        ),
        CustomField.objects.create(key="licence", label="执照号", type=CustomField.Type.TEXT),
    ]


@pytest.fixture
def target(alice, make_customer, custom_fields) -> Customer:
    customer = make_customer(alice, name="被编辑精密机械有限公司", phone="13712345678")
    Customer.objects.filter(pk=customer.pk).update(custom_data={"staff": 120, "grade": "B"})
    customer.refresh_from_db()
    return customer


@pytest.fixture
def bystander(bob, make_customer) -> Customer:
    """Someone else's record, on the same page of the database: it must never change."""
    return make_customer(bob, name="旁观者贸易有限公司", phone="13698765432")


@pytest.fixture
def alices_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def valid_customer(**extra):  # type: ignore[no-untyped-def]
    return customer_form_data(
        cf_staff="250", cf_founded="2010-05-01", cf_grade="A", cf_licence="91320500", **extra
    )


def archive() -> list:
    return rows(Customer.objects.all(), Contact.objects.all(), CustomerTag.objects.all())


@HOSTILE
@given(data=st.data())
def test_the_create_form_never_fails(alice, alices_client, custom_fields, bystander, data):
    fields = field_map(CustomerForm(user=alice))
    post = data.draw(hostile_post(valid_customer(), fields))
    before = archive()
    known = set(Customer.objects.values_list("pk", flat=True))
    saved_before = rows(Customer.objects.filter(pk__in=known), Contact.objects.all())

    response = send(alices_client, reverse("customers:create"), post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event("saved" if saved else "refused")
    assert explained(response, saved=saved)
    if saved:
        (created,) = Customer.objects.exclude(pk__in=known)
        # Its page, for alice or, given to someone out of her reach, for its owner.
        reader = alices_client
        if not Customer.objects.visible_to(alice).filter(pk=created.pk).exists():
            reader = Client()
            reader.force_login(created.owner)
        assert reader.get(created.get_absolute_url()).status_code == 200
        assert (
            rows(Customer.objects.filter(pk__in=known), Contact.objects.exclude(customer=created))
            == saved_before
        )
        created.delete()  # or the next example's valid fields would be a duplicate of it
    else:
        assert archive() == before


@HOSTILE
@given(data=st.data())
def test_the_edit_form_never_fails(alice, manager, alices_client, target, bystander, data):
    fields = field_map(CustomerForm(instance=target, user=alice))
    valid = valid_customer(address="苏州工业园区星湖街328号", owner=alice.pk, change_reason="")
    post = data.draw(hostile_post(valid, fields))
    others = rows(Customer.objects.exclude(pk=target.pk), Contact.objects.all())
    before = archive()

    response = send(alices_client, reverse("customers:edit", args=[target.pk]), post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event("saved" if saved else "refused")
    assert explained(response, saved=saved)
    assert rows(Customer.objects.exclude(pk=target.pk), Contact.objects.all()) == others
    if saved:
        assert alices_client.get(target.get_absolute_url()).status_code == 200
    else:
        assert archive() == before


def valid_contact():  # type: ignore[no-untyped-def]
    return {
        "name": "李四",
        "title": "采购经理",
        "phone": "13900001111",
        "email": "lisi@example.cn",
        "decision_role": "decision_maker",
        "birthday": "1985-06-01",
    }


@HOSTILE
@given(data=st.data())
def test_the_contact_forms_never_fail(alices_client, target, bystander, data):
    contact = target.contacts.order_by("pk").first()
    edit = data.draw(st.booleans())
    url = (
        reverse("customers:contact_edit", args=[target.pk, contact.pk])
        if edit
        else reverse("customers:contact_create", args=[target.pk])
    )
    fields = field_map(ContactForm(instance=contact if edit else None))
    post = data.draw(hostile_post(valid_contact(), fields))
    others = rows(Customer.objects.all(), Contact.objects.exclude(customer=target))
    before = rows(Contact.objects.filter(customer=target))

    response = send(alices_client, url, post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event(f"{'edit' if edit else 'create'}: {'saved' if saved else 'refused'}")
    assert explained(response, saved=saved)
    assert rows(Customer.objects.all(), Contact.objects.exclude(customer=target)) == others
    if saved:
        assert alices_client.get(target.get_absolute_url()).status_code == 200
    else:
        assert rows(Contact.objects.filter(customer=target)) == before


# --- what the properties found, pinned -------------------------------------------------------


def test_a_first_contact_in_the_year_1_is_refused_not_stored_unreadable(alices_client):
    # 0001-01-01 00:30 in Shanghai is a year-0 instant in UTC: Postgres took it, and every page
    # showing the customer then failed to read it back.
    response = send(
        alices_client,
        reverse("customers:create"),
        customer_form_data(first_contact_at="0001-01-01 00:30"),
    )

    assert response.status_code == 200
    assert "请输入 1900 年至 2999 年之间的日期。" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_refused_primary_contact_request_adds_no_contact(alice, manager, alices_client, target):
    from customers.services import customer_change_request

    # A change request is already waiting, so asking for a new primary contact is refused:
    # the contact used to be saved all the same, behind the error the form showed.
    customer_change_request(customer=target, by=alice, changes={"annual_amount": 900000})
    before = list(target.contacts.values_list("pk", flat=True))

    response = send(
        alices_client,
        reverse("customers:contact_create", args=[target.pk]),
        {**valid_contact(), "is_primary": "on"},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert list(target.contacts.values_list("pk", flat=True)) == before


def test_the_change_reason_is_not_a_field_of_a_new_customer(alice):
    assert "change_reason" not in CustomerForm(user=alice).fields
