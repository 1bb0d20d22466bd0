"""Bulk inserts by COPY write what bulk_create and simple-history's bulk_history_create write."""

import datetime

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from crm.core import bulk
from crm.core.models import Attachment, DomainEvent
from customers.models import Contact, Customer, CustomerCategory

pytestmark = pytest.mark.django_db

SKIP = {"id", "number"}
CREATED = timezone.now()


def customer(number: str, **fields) -> Customer:
    return Customer(
        number=number,
        name="杭州示例科技有限公司",
        name_normalized="杭州示例科技",
        category=CustomerCategory.objects.get(name="企业客户"),
        address="西湖区文三路100号",
        custom_data={"grade": "甲", "budget_year": 2026},
        created_at=CREATED,
        **fields,
    )


def stored(model, pk: int, column: str) -> str:
    """The column as the database holds it (ciphertext for an encrypted field)."""
    table, column = (connection.ops.quote_name(name) for name in (model._meta.db_table, column))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_create_all_saves_what_bulk_create_saves_with_the_same_history(alice):
    date = timezone.now() - datetime.timedelta(minutes=5)
    copied = customer("T001", owner=alice)
    reference = customer("T002", owner=alice)

    bulk.create_all([copied], history=bulk.History(user=alice, date=date))
    Customer.objects.bulk_create([reference])
    Customer.history.bulk_history_create([reference], default_user=alice, default_date=date)

    assert copied.pk
    assert not copied._state.adding
    mine, theirs = Customer.objects.get(pk=copied.pk), Customer.objects.get(pk=reference.pk)
    assert {k: v for k, v in model_to_dict(mine).items() if k not in SKIP} == {
        k: v for k, v in model_to_dict(theirs).items() if k not in SKIP
    }
    assert mine.address == "西湖区文三路100号"
    assert "文三路" not in stored(Customer, mine.pk, "address")  # encrypted at rest
    assert mine.custom_data == {"grade": "甲", "budget_year": 2026}
    assert mine.updated_at is not None  # auto_now, as save() sets it
    history = mine.history.get()
    reference_history = theirs.history.get()
    for name in ("history_type", "history_user_id", "history_date", "history_change_reason"):
        assert getattr(history, name) == getattr(reference_history, name), name
    assert history.address == "西湖区文三路100号"
    assert history.instance.custom_data == mine.custom_data


def test_an_objects_own_history_user_and_reason_win(alice, bob):
    obj = customer("T003")
    obj._history_user = bob
    obj._change_reason = "导入"

    bulk.create_all([obj], history=bulk.History(user=alice))

    history = Customer.objects.get(pk=obj.pk).history.get()
    assert (history.history_user, history.history_change_reason) == (bob, "导入")


def test_insert_values_writes_rows_and_history_without_objects(alice):
    owner = customer("T004")
    bulk.create_all([owner])

    ids = bulk.insert_values(
        Contact,
        [
            {"customer_id": owner.pk, "name": "王经理", "phone": "13812345678", "is_primary": True},
            {"customer_id": owner.pk, "name": "李工", "email": "li@example.com"},
        ],
        history=bulk.History(user=alice),
    )

    first, second = Contact.objects.filter(pk__in=ids).order_by("pk")
    assert (first.name, first.phone, first.is_primary) == ("王经理", "13812345678", True)
    assert "13812345678" not in stored(Contact, first.pk, "phone")
    assert (second.email, second.is_primary, second.title) == ("li@example.com", False, "")
    assert second.created_at is not None  # the field's default
    assert [h.history_user for h in first.history.all()] == [alice]
    assert first.history.get().phone == "13812345678"


def test_insert_values_takes_json_and_foreign_keys_by_id(alice):
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Customer)
    [pk] = bulk.insert_values(
        DomainEvent,
        [
            {
                "name": "customer.created",
                "content_type_id": content_type.pk,
                "object_id": 7,
                "actor": alice,
                "payload": {"source": 3, "标签": ["价格问询"]},
            }
        ],
    )

    event = DomainEvent.objects.get(pk=pk)
    assert (event.actor, event.object_id, event.delivered_at) == (alice, 7, None)
    assert event.payload == {"source": 3, "标签": ["价格问询"]}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="elsewhere bulk_create saves them as save() would"
)
def test_file_fields_are_refused():
    with pytest.raises(TypeError, match="file fields"):
        bulk.create_all([Attachment()])


def test_nothing_to_write_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.create_all([]) == []
        assert bulk.insert_values(Contact, []) == []
