"""Hostile input to the public lead endpoints: whatever arrives (odd values, fields missing or
sent twice, raw bytes), the answer is a 2xx or 4xx, and a customer is saved only when the
endpoint says the lead was accepted."""

import hashlib
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customers.forms_leads import LeadCaptureForm
from customers.models import Customer, LeadInquiry, LeadSource, SourceChannel
from tests.hostile import field_map, hostile_post

API_KEY = "hostile-test-key"
FORM_URL = "/leads/capture/"
API_URL = "/api/leads/"
pytestmark = pytest.mark.django_db
FIELDS = ["name", "contact_name", "phone", "email", "message"]
HOSTILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

valid_phones = st.sampled_from(
    ["13912345678", "+86 139 1234 5678", "010-12345678", "１３９１２３４５６７８"]
)
huge_text = st.builds(
    lambda chunk, times: chunk * times, st.text(min_size=1, max_size=4), st.integers(500, 20_000)
)
texts = st.one_of(st.text(), huge_text, st.sampled_from(["", " ", "\x00", "苏州精工", "a@b.cn"]))
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=8,
)


@pytest.fixture
def lead_source(db) -> LeadSource:
    return LeadSource.objects.create(
        name="官网",
        channel=SourceChannel.objects.get(code="website_form"),
        api_key_hash=hashlib.sha256(API_KEY.encode()).hexdigest(),
        key_prefix=API_KEY[:8],
    )


@pytest.fixture
def unlimited(settings):
    settings.LEAD_CAPTURE_RATE = "100000/m"
    settings.LEAD_API_RATE_PER_IP = "100000/m"
    settings.LEAD_API_RATE_PER_KEY = "100000/m"


def saved() -> tuple[int, int]:
    return Customer.objects.count(), LeadInquiry.objects.count()


@HOSTILE
@given(
    fields=st.fixed_dictionaries(dict.fromkeys(FIELDS, texts)),
    phone=st.one_of(texts, valid_phones),
    tags=st.lists(st.one_of(texts, st.integers().map(str)), max_size=3),
    source=texts,
    honeypot=st.sampled_from(["", "", "", "http://spam.example"]),
)
def test_the_form_never_fails_on_hostile_input(
    client, unlimited, fields, phone, tags, source, honeypot
):
    before = saved()
    data = {**fields, "phone": phone, "tags": tags, "website": honeypot}

    response = client.post(f"{FORM_URL}?{urlencode({'source': source[:300]})}", data)

    assert response.status_code in (200, 302)
    event(f"status {response.status_code}")
    after = saved()
    if response.status_code == 302 and not honeypot:
        assert after[1] == before[1] + 1  # one inquiry, on a new or a known customer
        assert after[0] in (before[0], before[0] + 1)
    else:
        assert after == before


@HOSTILE
@given(
    body=st.one_of(
        st.dictionaries(st.sampled_from([*FIELDS, "tags", "website"]), json_values),
        st.fixed_dictionaries({"name": texts, "phone": st.one_of(valid_phones, json_values)}),
        st.fixed_dictionaries(
            {"name": st.one_of(st.just("苏州精工"), texts), "phone": valid_phones},
            optional={
                "contact_name": st.one_of(texts, json_values),
                "email": st.one_of(st.just("chen@example.com"), json_values),
                "message": st.one_of(texts, json_values),
                "tags": st.one_of(st.just(["采购设备"]), json_values),
            },
        ),
        json_values,
    )
)
def test_the_api_never_fails_on_hostile_json(client, lead_source, unlimited, body):
    before = saved()

    response = client.post(
        API_URL,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-Api-Key": API_KEY},
    )

    assert response.status_code in (200, 201, 400)
    event(f"status {response.status_code}")
    after = saved()
    if response.status_code == 201:
        assert after == (before[0] + 1, before[1] + 1)
    elif response.status_code == 200:
        assert after == (before[0], before[1] + 1)
        assert response.json()["created"] is False
    else:
        assert after == before
        assert response.json()["errors"]


@HOSTILE
@given(raw=st.binary(max_size=2000), key=st.sampled_from([API_KEY, "", "wrong"]))
def test_the_api_never_fails_on_raw_bytes(client, lead_source, unlimited, raw, key):
    before = saved()

    response = client.post(
        API_URL, data=raw, content_type="application/json", headers={"X-Api-Key": key}
    )

    assert response.status_code in (200, 201, 400, 401)
    event(f"status {response.status_code}")
    if response.status_code >= 400:
        assert saved() == before


@HOSTILE
@given(data=st.data())
def test_the_form_never_fails_when_fields_are_missing_doubled_or_odd(client, unlimited, data):
    valid = {
        "name": "常州天宁机电有限公司",
        "contact_name": "陈经理",
        "phone": "13912345678",
        "email": "chen@example.com",
        "message": "想了解五轴加工中心的价格",
        "website": "",
    }
    post = data.draw(hostile_post(valid, field_map(LeadCaptureForm())))
    before = saved()

    response = client.post(FORM_URL, post)

    assert response.status_code in (200, 302)
    event(f"status {response.status_code}")
    after = saved()
    honeypot = post.get("website")
    if isinstance(honeypot, list):  # a doubled field: the form reads the last value
        honeypot = honeypot[-1] if honeypot else ""
    if response.status_code == 302 and not honeypot:
        assert after[1] == before[1] + 1
    else:
        assert after == before
        if response.status_code == 200:
            assert response.context["form"].errors
