"""Lead capture (线索采集): the service, the public form and the lead API."""

import datetime
import hashlib
import json
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.core.models import DomainEvent
from crm.core.phones import validate_phone
from crm.notifications.models import Notification
from customers.events import LEAD_CAPTURED
from customers.leads import UNKNOWN_CONTACT, lead_capture
from customers.models import Customer, DemandTag, LeadInquiry, LeadSource, SourceChannel

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
API_KEY = "test-key-of-the-company-website"
FORM_URL = "/leads/capture/"
THANKS_URL = "/leads/capture/thanks/"
API_URL = "/api/leads/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def website(db) -> SourceChannel:
    return SourceChannel.objects.get(code="website_form")


@pytest.fixture
def lead_source(website) -> LeadSource:
    return LeadSource.objects.create(
        name="官网",
        channel=website,
        api_key_hash=hashlib.sha256(API_KEY.encode()).hexdigest(),
        key_prefix=API_KEY[:8],
    )


def tag(name: str) -> DemandTag:
    return DemandTag.objects.get(name=name)


def validate_phone_message(value: str) -> str:
    try:
        validate_phone(value)
    except ValidationError as error:
        return error.messages[0]
    raise AssertionError(value)


def post_api(client, body, *, key: str = API_KEY, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        API_URL, data=data, content_type="application/json", headers={"X-Api-Key": key}, **extra
    )


# --- the service ---------------------------------------------------------------------------------


def test_it_creates_a_to_be_assigned_customer_without_owner(exhibition):
    result = lead_capture(source=exhibition, name="苏州精工机械有限公司", phone="13912345678")

    customer = result.customer
    assert result.created is True
    assert customer.number.startswith("C")
    assert len(customer.number) == len("C20240515001")
    assert customer.status == Customer.Status.TO_BE_ASSIGNED
    assert customer.owner is None
    assert customer.created_by is None
    assert customer.source == exhibition
    contact = customer.contacts.get()
    assert contact.name == UNKNOWN_CONTACT == "未知联系人"
    assert contact.phone == "13912345678"
    assert contact.is_primary


def test_it_keeps_the_entry_time_to_the_minute(exhibition):
    moment = datetime.datetime(2024, 5, 15, 9, 30, 47, 123456, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        result = lead_capture(source=exhibition, name="苏州精工", phone="13912345678")

    expected = datetime.datetime(2024, 5, 15, 9, 30, tzinfo=SHANGHAI)
    assert result.customer.first_contact_at == expected
    assert result.inquiry.captured_at == expected
    assert result.customer.number == "C20240515001"


def test_it_tags_an_exhibition_lead_with_cooperation_negotiation(exhibition):
    result = lead_capture(
        source=exhibition, name="苏州精工", phone="13912345678", tags=[tag("采购设备")]
    )

    assert set(result.customer.tags.values_list("name", flat=True)) == {"合作洽谈", "采购设备"}


def test_it_writes_a_lead_captured_event_and_an_inquiry(exhibition):
    result = lead_capture(
        source=exhibition,
        name="苏州精工",
        phone="13912345678",
        contact_name=" 李工 ",
        message="想了解数控机床报价",
    )

    event = DomainEvent.objects.get(name=LEAD_CAPTURED)
    assert event.object_id == result.customer.pk
    assert event.actor is None
    assert event.payload["status"] == Customer.Status.TO_BE_ASSIGNED
    inquiry = LeadInquiry.objects.get()
    assert inquiry.customer == result.customer
    assert inquiry.source == exhibition
    assert inquiry.contact_name == "李工"
    assert inquiry.message == "想了解数控机床报价"
    assert inquiry.created_new is True


def test_a_known_phone_attaches_the_inquiry_to_the_existing_customer(
    exhibition, alices_customer, alice
):
    result = lead_capture(
        source=exhibition, name="另一个名字", phone="+86 138 1234 5678", message="再次咨询"
    )

    assert result.created is False
    assert result.customer == alices_customer
    assert Customer.objects.count() == 1
    assert alices_customer.contacts.count() == 1
    inquiry = LeadInquiry.objects.get()
    assert inquiry.customer == alices_customer
    assert inquiry.created_new is False
    assert "合作洽谈" in set(alices_customer.tags.values_list("name", flat=True))
    assert DomainEvent.objects.filter(name=LEAD_CAPTURED, object_id=alices_customer.pk).exists()
    alices_customer.refresh_from_db()
    assert alices_customer.owner == alice


def test_a_known_phone_tells_the_owner(
    exhibition, alices_customer, alice, bob, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_capture(source=exhibition, name="另一个名字", phone="13812345678")

    notification = Notification.objects.get(verb="lead_inquiry")
    assert notification.recipient == alice
    assert notification.url == alices_customer.get_absolute_url()
    assert alices_customer.number in notification.title
    assert not Notification.objects.filter(recipient=bob).exists()
    assert [message.to for message in mailoutbox] == [[alice.email]]


def test_a_bad_mobile_is_rejected_with_its_own_message(exhibition):
    with pytest.raises(ValidationError) as error:
        lead_capture(source=exhibition, name="苏州精工", phone="1381234567")

    assert error.value.error_dict["phone"][0].code == "invalid_mobile"
    assert not Customer.objects.exists()
    assert not LeadInquiry.objects.exists()


def test_a_lead_needs_a_name_and_a_phone(exhibition):
    with pytest.raises(ValidationError) as error:
        lead_capture(source=exhibition, name="  ", phone="")

    assert set(error.value.error_dict) == {"name", "phone"}
    assert not Customer.objects.exists()


# --- the public form -----------------------------------------------------------------------------


def test_the_form_can_be_framed_by_the_company_website(client):
    response = client.get(FORM_URL, {"source": "exhibition"})

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response.context["channel"].code == "exhibition"
    assert b'data-testid="lead-form"' in response.content
    assert b'name="website"' in response.content
    assert "X-Frame-Options" not in client.get(THANKS_URL)
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "frame-ancestors *" in client.get(THANKS_URL)["Content-Security-Policy"]


def test_an_unknown_source_falls_back_to_the_website_form(client, website):
    assert client.get(FORM_URL, {"source": "no-such-channel"}).context["channel"] == website
    assert client.get(FORM_URL).context["channel"] == website


def test_the_form_offers_the_active_demand_tags_only(client):
    DemandTag.objects.filter(name="价格问询").update(is_active=False)

    offered = set(client.get(FORM_URL).context["form"].fields["tags"].queryset)

    assert tag("采购设备") in offered
    assert tag("价格问询") not in offered
    assert tag("价格敏感型") not in offered  # a free tag, not a demand


def test_a_bad_phone_is_shown_on_the_form_then_a_good_one_goes_through(client, exhibition):
    form = {"name": "苏州精工", "phone": "1381234567", "tags": [tag("采购设备").pk]}
    url = f"{FORM_URL}?source=exhibition"

    response = client.post(url, form)

    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["phone"][0].code == "invalid_mobile"
    assert b'data-testid="lead-form"' in response.content
    assert not Customer.objects.exists()

    response = client.post(url, {**form, "phone": "13912345678"})

    assert response.status_code == 302
    assert response.url == f"{THANKS_URL}?source=exhibition"
    customer = Customer.objects.get()
    assert customer.source == exhibition
    assert customer.status == Customer.Status.TO_BE_ASSIGNED
    assert set(customer.tags.values_list("name", flat=True)) == {"合作洽谈", "采购设备"}
    assert client.get(response.url).status_code == 200


def test_form_errors_are_shown_next_to_the_field_in_the_visitors_language(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(FORM_URL, {"name": "", "phone": "1381234567"})

    assert set(response.context["form"].errors) == {"name", "phone"}
    assert b'id="error_1_id_phone"' in response.content
    with translation.override("en"):
        message = str(validate_phone_message("1381234567"))
    assert message.encode() in response.content
    assert not Customer.objects.exists()


def test_a_filled_honeypot_looks_successful_but_saves_nothing(client):
    response = client.post(
        FORM_URL, {"name": "Buy pills", "phone": "13912345678", "website": "http://spam.example"}
    )

    assert response.status_code == 302
    assert response.url == THANKS_URL
    assert not Customer.objects.exists()
    assert not LeadInquiry.objects.exists()


def test_the_form_is_rate_limited_per_address(client, settings):
    settings.LEAD_CAPTURE_RATE = "2/m"
    lead = {"name": "苏州精工", "phone": "13912345678"}

    statuses = [client.post(FORM_URL, lead).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert LeadInquiry.objects.count() == 2
    response = client.post(FORM_URL, lead)
    assert b'data-testid="lead-rate-limited"' in response.content
    assert client.post(FORM_URL, lead, REMOTE_ADDR="10.1.2.3").status_code == 302


# --- the API -----------------------------------------------------------------------------------


def test_the_api_creates_a_lead_for_the_keys_channel(client, lead_source, website):
    response = post_api(
        client,
        {
            "name": "杭州云启科技有限公司",
            "phone": "13912345678",
            "contact_name": "陈女士",
            "email": "chen@example.com",
            "message": "需要一套演示",
            "tags": ["采购设备", "技术咨询"],
        },
    )

    assert response.status_code == 201
    customer = Customer.objects.get()
    assert response.json() == {"number": customer.number, "created": True, "customer": customer.pk}
    assert customer.source == website
    assert set(customer.tags.values_list("name", flat=True)) == {"产品咨询", "采购设备", "技术咨询"}
    contact = customer.contacts.get()
    assert (contact.name, contact.email) == ("陈女士", "chen@example.com")


@pytest.mark.parametrize("key", ["", "not-the-key"])
def test_the_api_refuses_a_missing_or_wrong_key(client, lead_source, key):
    response = post_api(client, {"name": "苏州精工", "phone": "13912345678"}, key=key)

    assert response.status_code == 401
    assert "error" in response.json()
    assert not Customer.objects.exists()


def test_the_api_refuses_the_key_of_an_inactive_source(client, lead_source):
    lead_source.is_active = False
    lead_source.save()

    response = post_api(client, {"name": "苏州精工", "phone": "13912345678"})

    assert response.status_code == 401
    assert not Customer.objects.exists()


def test_the_api_reports_a_bad_phone_by_field(client, lead_source):
    response = post_api(client, {"name": "苏州精工", "phone": "1381234567"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["phone"]
    assert response.json()["errors"]["phone"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', b"\xff\xfe\x00"])
def test_the_api_rejects_a_body_that_is_not_a_json_object(client, lead_source, body):
    response = post_api(client, body)

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"]


def test_the_api_rejects_a_body_over_the_upload_limit(client, lead_source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = post_api(client, {"name": "苏州精工", "phone": "13912345678", "message": "长" * 200})

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"]
    assert not Customer.objects.exists()


def test_the_api_rejects_unknown_tags_and_wrong_types(client, lead_source):
    response = post_api(
        client, {"name": ["苏州精工"], "phone": 13912345678, "tags": ["采购设备", "不存在的标签"]}
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "phone", "tags"}
    assert not Customer.objects.exists()


def test_the_api_attaches_a_known_phone_to_its_customer(client, lead_source, alices_customer):
    response = post_api(client, {"name": "重复的公司", "phone": "13812345678"})

    assert response.status_code == 200
    assert response.json() == {
        "number": alices_customer.number,
        "created": False,
        "customer": alices_customer.pk,
    }
    assert Customer.objects.count() == 1
    assert LeadInquiry.objects.get().created_new is False


def test_the_api_is_rate_limited_per_key(client, lead_source, settings):
    settings.LEAD_API_RATE_PER_KEY = "2/m"
    lead = {"name": "苏州精工", "phone": "13912345678"}

    statuses = [post_api(client, lead, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(3)]

    assert statuses == [201, 200, 429]
    assert "error" in post_api(client, lead).json()


def test_the_api_is_rate_limited_per_address(client, lead_source, settings):
    settings.LEAD_API_RATE_PER_IP = "2/m"
    lead = {"name": "苏州精工", "phone": "13912345678"}

    statuses = [post_api(client, lead, key=f"guess-{n}").status_code for n in range(3)]

    assert statuses == [401, 401, 429]
    assert post_api(client, lead, REMOTE_ADDR="10.9.9.9").status_code == 201


def test_the_api_accepts_only_post(client, lead_source):
    response = client.get(API_URL, headers={"X-Api-Key": API_KEY})

    assert response.status_code == 405


# --- who sees a captured lead ------------------------------------------------------------------


def test_charlie_gets_404_for_a_captured_lead_the_manager_sees_the_pool(
    client_for, charlie, manager, exhibition
):
    customer = lead_capture(source=exhibition, name="苏州精工", phone="13912345678").customer

    assert client_for(charlie).get(customer.get_absolute_url()).status_code == 404
    assert Customer.objects.visible_to(manager).filter(pk=customer.pk).exists()
