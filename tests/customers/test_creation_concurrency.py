"""A thousand customers created at once by eight clerks (threads with their own connections,
through the real service): every customer is saved with its contact, its event and its history
row, and the thousand numbers are the day's 001 to 1000, none twice, none skipped."""

import datetime
import zoneinfo
from functools import partial

import pytest
import time_machine

from crm.core.models import DomainEvent
from customers.events import CUSTOMER_CREATED
from customers.models import Contact, Customer, CustomerCategory
from customers.services import customer_create
from tests.concurrency import at_once, needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CUSTOMERS = 1000
CLERKS = 8
# A working morning in Shanghai, so that the thousand numbers share one day.
MORNING = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def test_a_thousand_concurrent_creations_lose_nothing_and_share_no_number(alice, bob):
    category = CustomerCategory.objects.get(name="企业客户")

    def clerk(indexes: range) -> list[tuple[int, str]]:
        created = []
        for index in indexes:
            customer = customer_create(
                by=(alice, bob)[index % 2],
                name=f"并发新建客户{index:04d}有限公司",
                category=category,
                contacts=[{"name": f"联系人{index}", "phone": f"139{index:08d}"}],
            )
            created.append((customer.pk, customer.number))
        return created

    with time_machine.travel(MORNING, tick=True):
        results = at_once(
            *[partial(clerk, range(start, CUSTOMERS, CLERKS)) for start in range(CLERKS)]
        )

    returned = [row for rows in results for row in rows]
    assert len(returned) == CUSTOMERS
    saved = dict(Customer.objects.values_list("pk", "number"))
    assert saved == dict(returned), "a customer the service returned is missing or renumbered"
    assert sorted(saved.values()) == sorted(
        f"C20260302{sequence:03d}" for sequence in range(1, CUSTOMERS + 1)
    )
    assert Contact.objects.count() == CUSTOMERS
    assert set(Contact.objects.values_list("customer_id", flat=True)) == set(saved)
    assert DomainEvent.objects.filter(name=CUSTOMER_CREATED).count() == CUSTOMERS
    assert Customer.history.filter(history_type="+").count() == CUSTOMERS
    assert Customer.objects.filter(name__startswith="并发新建客户").count() == CUSTOMERS
