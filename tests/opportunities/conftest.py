"""Pipeline fixtures on top of tests/conftest.py's organisation (alice and bob in team A with
their manager, charlie in team B). The stages are the seeded dictionary of SPEC §3."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import CustomerCategory
from customers.services import customer_create
from opportunities import services
from opportunities.models import LostReason, Stage


@pytest.fixture
def stage(db):
    """stage("proposal") → the seeded Stage with that code."""
    stages = {stage.code: stage for stage in Stage.objects.all()}
    return stages.__getitem__


@pytest.fixture
def make_customer(db):
    def make(owner, name="杭州示例科技有限公司"):
        return customer_create(
            by=owner,
            owner=owner,
            name=name,
            category=CustomerCategory.objects.get(name="企业客户"),
        )

    return make


@pytest.fixture
def alices_customer(alice, make_customer):
    return make_customer(alice)


@pytest.fixture
def make_opportunity(stage):
    def make(customer, owner, code="lead", amount="100000", **fields):
        fields.setdefault("expected_close_date", timezone.localdate() + datetime.timedelta(days=30))
        return services.opportunity_create(
            customer=customer,
            by=owner,
            name=fields.pop("name", "ERP 采购项目"),
            stage=stage(code),
            amount=Decimal(amount),
            **fields,
        )

    return make


@pytest.fixture
def opportunity(alice, alices_customer, make_opportunity):
    return make_opportunity(alices_customer, alice, "proposal", "200000")


@pytest.fixture
def price_reason(db):
    return LostReason.objects.get(code="price")


@pytest.fixture
def won_order(alice, opportunity):
    return services.order_create(
        opportunity=opportunity,
        by=alice,
        amount=Decimal("200000.00"),
        signed_on=timezone.localdate(),
        contract_ends_on=timezone.localdate() + datetime.timedelta(days=365),
    )
