"""Payment plans and receipts: Decimal arithmetic, overdue logic with frozen time, the overdue
reminder once, contract expiry for follow-ups and the order figures for the value tier."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from crm.notifications.models import Notification
from followups import reminders as followup_reminders
from opportunities import reminders, services
from opportunities.models import Order

pytestmark = pytest.mark.django_db

TZ = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.date(2026, 3, 10)
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=TZ)


@pytest.fixture
def order(alice, opportunity):
    with time_machine.travel(NOW, tick=False):
        order = services.order_create(
            opportunity=opportunity,
            by=alice,
            amount=Decimal("100000.10"),
            signed_on=datetime.date(2026, 1, 5),
            contract_ends_on=datetime.date(2026, 4, 1),
        )
        for due, amount in (
            ("2026-02-01", "30000.05"),
            ("2026-03-01", "30000.05"),
            ("2026-06-01", "40000.00"),
        ):
            services.instalment_add(
                order=order,
                by=alice,
                due_date=datetime.date.fromisoformat(due),
                amount=Decimal(amount),
            )
    return order


def figures(order):
    annotated = Order.objects.with_payments(TODAY).get(pk=order.pk)
    return annotated.collected, annotated.outstanding, annotated.overdue


def test_a_plan_cannot_exceed_the_order(alice, order):
    with pytest.raises(ValidationError, match="超出订单金额"):
        services.instalment_add(
            order=order, by=alice, due_date=datetime.date(2026, 7, 1), amount=Decimal("0.01")
        )


@time_machine.travel(NOW, tick=False)
def test_outstanding_overdue_and_collected(alice, order):
    first, second, _third = order.instalments.all()
    assert figures(order) == (Decimal(0), Decimal("100000.10"), Decimal("60000.10"))

    services.receipt_record(
        instalment=first, by=alice, amount=Decimal("30000.05"), received_on=TODAY
    )
    services.receipt_record(
        instalment=second, by=alice, amount=Decimal("10000.00"), received_on=TODAY
    )

    assert figures(order) == (Decimal("40000.05"), Decimal("60000.05"), Decimal("20000.05"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.paid_at is not None
    assert second.paid_at is None


@time_machine.travel(NOW, tick=False)
def test_a_receipt_never_exceeds_what_is_owed(alice, order):
    first = order.instalments.first()
    with pytest.raises(ValidationError, match=r"30,000\.05"):
        services.receipt_record(
            instalment=first, by=alice, amount=Decimal("30000.06"), received_on=TODAY
        )
    with pytest.raises(ValidationError):
        services.receipt_record(
            instalment=first,
            by=alice,
            amount=Decimal(1),
            received_on=TODAY + datetime.timedelta(days=1),
        )


@time_machine.travel(NOW, tick=False)
def test_full_payment_moves_the_opportunity_to_collected(alice, order):
    for instalment in order.instalments.all():
        services.receipt_record(
            instalment=instalment, by=alice, amount=instalment.amount, received_on=TODAY
        )

    order.opportunity.refresh_from_db()
    assert order.opportunity.stage.code == "collected"
    assert figures(order) == (Decimal("100000.10"), Decimal(0), Decimal(0))


def test_overdue_instalments_remind_the_owner_once(alice, order):
    with time_machine.travel(NOW, tick=False):
        assert reminders.remind_overdue_instalments(now=NOW) == 2
        assert reminders.remind_overdue_instalments(now=NOW) == 0
    notes = Notification.objects.filter(recipient=alice, verb="order_overdue")
    assert notes.count() == 2
    assert order.number in notes.first().title


def test_a_paid_instalment_is_not_overdue(alice, order):
    with time_machine.travel(NOW, tick=False):
        for instalment in order.instalments.filter(due_date__lt=TODAY):
            services.receipt_record(
                instalment=instalment, by=alice, amount=instalment.amount, received_on=TODAY
            )
        assert reminders.remind_overdue_instalments(now=NOW) == 0


def test_contract_end_feeds_the_follow_up_contract_reminder(alice, order):
    with time_machine.travel(NOW, tick=False):
        assert followup_reminders.remind_contract_expiry(now=NOW) == 1
        assert followup_reminders.remind_contract_expiry(now=NOW) == 0
    notice = Notification.objects.get(recipient=alice, verb="followup_contract_expiry")
    assert order.number in notice.body  # named by its number, not its database id


def test_won_orders_are_the_value_figures(order):
    since = datetime.datetime(2025, 3, 10, tzinfo=TZ)
    assert reminders.won_order_amounts(since) == {order.customer_id: Decimal("100000.10")}
    cooperation = reminders.last_orders([order.customer_id])
    assert cooperation[order.customer_id].date() == datetime.date(2026, 1, 5)
