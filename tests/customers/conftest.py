"""Customer fixtures on top of tests/conftest.py's organisation (alice and bob in team A with
their manager, charlie in team B)."""

import pytest

from customers.models import Customer, CustomerCategory, SourceChannel
from customers.services import customer_create


@pytest.fixture
def enterprise(db) -> CustomerCategory:
    return CustomerCategory.objects.get(name="企业客户")


@pytest.fixture
def exhibition(db) -> SourceChannel:
    return SourceChannel.objects.get(code="exhibition")


@pytest.fixture
def make_customer(enterprise):
    """make_customer(owner, name=…, phone=…) creates a customer through the real service."""

    def make(owner, name: str = "杭州示例科技有限公司", phone: str = "13812345678", **fields):
        contacts = [{"name": "王经理", "phone": phone}] if phone else []
        return customer_create(
            by=owner,
            owner=owner,
            name=name,
            category=fields.pop("category", enterprise),
            contacts=contacts,
            **fields,
        )

    return make


@pytest.fixture
def alices_customer(alice, make_customer) -> Customer:
    return make_customer(alice)
