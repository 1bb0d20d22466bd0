"""Hostile posts to the pipeline's forms: the opportunity (create and edit, with custom
fields), its lines, competitors and objections, the order that wins it, and the payment plan
with its receipts. Whatever arrives, the answer is a saved record or an error the user sees,
never a 500; nothing changes unless it saved, and what was saved renders wherever it shows."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from opportunities import services
from opportunities.forms import (
    CompetitorForm,
    InstalmentForm,
    LineForm,
    ObjectionForm,
    ObjectionResolveForm,
    OpportunityForm,
    OrderForm,
    ReceiptForm,
)
from opportunities.models import (
    Competitor,
    Instalment,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityField,
    OpportunityLine,
    Order,
    Receipt,
)
from tests.hostile import HOSTILE, explained, field_map, hostile_post, rows, send, told_success

pytestmark = pytest.mark.django_db
Type = OpportunityField.Type


@pytest.fixture
def custom_fields(db) -> list[OpportunityField]:
    return [
        OpportunityField.objects.create(
            key="units", label="台数", type=OpportunityField.Type.NUMBER
        ),
        OpportunityField.objects.create(
            key="tender", label="招标日", type=OpportunityField.Type.DATE
        ),
    ]


@pytest.fixture
def alices_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def managers_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def pipeline() -> list:
    return rows(
        Opportunity.objects.all(),
        OpportunityLine.objects.all(),
        Competitor.objects.all(),
        Objection.objects.all(),
        Order.objects.all(),
        Instalment.objects.all(),
        Receipt.objects.all(),
    )


def pages_render(client: Client, managers: Client, opportunity: Opportunity) -> None:
    """What was saved shows on the pages that list it."""
    urls = [
        opportunity.get_absolute_url(),
        opportunity.customer.get_absolute_url(),
        reverse("customers:panel", args=[opportunity.customer_id, "opportunities"]),
        reverse("opportunities:list"),
        reverse("opportunities:board"),
        reverse("opportunities:forecast"),
        reverse("home"),
    ]
    urls += [order.get_absolute_url() for order in Order.objects.filter(opportunity=opportunity)]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert managers.get(reverse("opportunities:finance")).status_code == 200


def valid_opportunity(alice, stage) -> dict:  # type: ignore[no-untyped-def]
    return {
        "name": "五轴加工中心采购",
        "owner": alice.pk,
        "stage": stage("proposal").pk,
        "amount": "380000",
        "expected_close_date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "next_step": "约技术交流",
        "cf_units": "2",
        "cf_tender": "2027-01-15",
    }


@HOSTILE
@given(data=st.data())
def test_the_opportunity_forms_never_fail(
    alice, alices_client, managers_client, stage, opportunity, custom_fields, data
):
    edit = data.draw(st.booleans(), label="edit")
    form = OpportunityForm(instance=opportunity if edit else None, user=alice)
    post = data.draw(hostile_post(valid_opportunity(alice, stage), field_map(form)))
    url = (
        reverse("opportunities:edit", args=[opportunity.pk])
        if edit
        else reverse("opportunities:create") + f"?customer={opportunity.customer_id}"
    )
    known = set(Opportunity.objects.values_list("pk", flat=True))
    before = pipeline()

    response = send(alices_client, url, post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event(f"{'edit' if edit else 'create'}: {'saved' if saved else 'refused'}")
    assert explained(response, saved=saved)
    if saved:
        changed = Opportunity.objects.exclude(pk__in=known).first() or opportunity
        pages_render(alices_client, managers_client, changed)
    else:
        assert pipeline() == before


@HOSTILE
@given(data=st.data())
def test_the_line_competitor_and_objection_forms_never_fail(
    alice, alices_client, managers_client, opportunity, data
):
    objection = services.objection_add(
        opportunity=opportunity,
        by=alice,
        type=ObjectionType.objects.filter(is_active=True).first(),
        description="价格偏高",
    )
    kinds = {
        "line": (
            reverse("opportunities:line_add", args=[opportunity.pk]),
            LineForm(),
            {"product": "五轴加工中心", "unit_price": "190000", "quantity": "2"},
        ),
        "competitor": (
            reverse("opportunities:competitor_add", args=[opportunity.pk]),
            CompetitorForm(),
            {"name": "对手重工", "strengths": "报价低", "weaknesses": "交期长"},
        ),
        "objection": (
            reverse("opportunities:objection_add", args=[opportunity.pk]),
            ObjectionForm(),
            {
                "type": objection.type_id,
                "description": "功能不匹配",
                "solution": "定制开发",
                "customer_response": "再议",
            },
        ),
        "objection answer": (
            reverse("opportunities:objection_update", args=[opportunity.pk, objection.pk]),
            ObjectionResolveForm(instance=objection),
            {"solution": "分期付款", "customer_response": "接受", "resolved": "on"},
        ),
    }
    kind = data.draw(st.sampled_from(sorted(kinds)), label="form")
    url, form, valid = kinds[kind]
    post = data.draw(hostile_post(valid, field_map(form)))
    before = pipeline()

    response = send(alices_client, url, post)

    assert response.status_code == 302
    saved = told_success(response)
    event(f"{kind}: {'saved' if saved else 'refused'}")
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, managers_client, opportunity)
    else:
        assert pipeline() == before


@HOSTILE
@given(data=st.data())
def test_recording_the_order_never_fails(
    alice, alices_client, managers_client, alices_customer, make_opportunity, data
):
    deal = make_opportunity(alices_customer, alice, "negotiation", "200000")
    today = timezone.localdate()
    valid = {
        "number": "",
        "amount": "200000",
        "signed_on": today.isoformat(),
        "contract_ends_on": (today + datetime.timedelta(days=365)).isoformat(),
        "notes": "年度框架协议",
    }
    post = data.draw(hostile_post(valid, field_map(OrderForm())))
    before = pipeline()

    response = send(alices_client, reverse("opportunities:order_create", args=[deal.pk]), post)

    assert response.status_code in (200, 302)
    saved = response.status_code == 302
    event("saved" if saved else "refused")
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, managers_client, deal)
    else:
        assert pipeline() == before


@HOSTILE
@given(data=st.data())
def test_the_payment_plan_and_receipts_never_fail(alices_client, managers_client, won_order, data):
    instalment = Instalment.objects.create(
        order=won_order, due_date=timezone.localdate(), amount="1000"
    )
    today = timezone.localdate().isoformat()
    if data.draw(st.booleans(), label="receipt"):
        url = reverse("opportunities:receipt_add", args=[won_order.pk])
        form = ReceiptForm(order=won_order, prefix="receipt")
        valid = {
            "receipt-instalment": instalment.pk,
            "receipt-amount": "500",
            "receipt-received_on": today,
            "receipt-reference": "银行转账 0001",
        }
    else:
        url = reverse("opportunities:instalment_add", args=[won_order.pk])
        form = InstalmentForm(prefix="plan")
        valid = {"plan-due_date": today, "plan-amount": "1000", "plan-note": "尾款"}
    post = data.draw(hostile_post(valid, field_map(form)))
    before = pipeline()

    response = send(alices_client, url, post)

    assert response.status_code == 302
    saved = told_success(response)
    event(f"{url.rstrip('/').rsplit('/', 1)[-1]}: {'saved' if saved else 'refused'}")
    assert explained(response, saved=saved)
    if saved:
        pages_render(alices_client, managers_client, won_order.opportunity)
    else:
        assert pipeline() == before
