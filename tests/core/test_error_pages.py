"""Error pages speak the user's language, and a request that dies half-way (the database going
away between two writes) leaves nothing half-written behind it."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from crm.core import events
from customers.models import Contact, Customer
from tests.customers.test_views import customer_form_data

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_explained_in_chinese(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_record_outside_the_users_scope_gets_the_same_page(client, charlie, alice):
    from customers.models import CustomerCategory
    from customers.services import customer_create

    customer = customer_create(
        by=alice, name="外组客户", category=CustomerCategory.objects.get(name="企业客户")
    )
    client.force_login(charlie)
    response = client.get(customer.get_absolute_url())
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_database_failure_mid_request_shows_the_error_page_and_saves_nothing(alice, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    # The customer and its contact are written; the event that follows them fails.
    monkeypatch.setattr(events, "emit", database_gone)
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.post(reverse("customers:create"), customer_form_data())

    assert response.status_code == 500
    assert "服务器未能完成此请求" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()
