"""Stage changes: allowed transitions and their refusals, the stage history, events, milestones
created once; winning with an order upgrades the customer atomically."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.core.models import DomainEvent
from customers import services as customer_services
from customers.models import Customer
from followups.models import FollowUpTask
from opportunities import services
from opportunities.models import MilestoneTask, Order, StageVisit

pytestmark = pytest.mark.django_db


def event_names(opportunity):
    return list(
        DomainEvent.objects.filter(object_id=opportunity.pk, name__startswith="opportunity.")
        .order_by("pk")
        .values_list("name", flat=True)
    )


def test_creating_opens_the_first_stay_and_emits_created(alice, alices_customer, make_opportunity):
    opportunity = make_opportunity(alices_customer, alice)

    visit = StageVisit.objects.get(opportunity=opportunity)
    assert visit.stage.code == "lead"
    assert visit.left_at is None
    assert event_names(opportunity) == ["opportunity.created"]


def test_it_moves_between_open_stages_and_keeps_the_history(alice, opportunity, stage):
    services.opportunity_move_stage(opportunity=opportunity, stage=stage("negotiation"), by=alice)

    visits = list(StageVisit.objects.filter(opportunity=opportunity).order_by("pk"))
    assert [visit.stage.code for visit in visits] == ["proposal", "negotiation"]
    assert visits[0].left_at == visits[1].entered_at
    assert visits[1].left_at is None
    assert visits[1].from_stage.code == "proposal"
    assert opportunity.stage.code == "negotiation"
    changed = DomainEvent.objects.get(name="opportunity.stage_changed", object_id=opportunity.pk)
    assert changed.payload["from_stage"] == "proposal"
    assert changed.payload["stage"] == "negotiation"


def test_won_without_an_order_is_refused(alice, opportunity, stage):
    with pytest.raises(ValidationError, match="请先录入订单"):
        services.opportunity_move_stage(opportunity=opportunity, stage=stage("won"), by=alice)

    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"
    assert StageVisit.objects.filter(opportunity=opportunity).count() == 1


def test_lost_needs_a_reason(alice, opportunity, stage, price_reason):
    with pytest.raises(ValidationError):
        services.opportunity_move_stage(opportunity=opportunity, stage=stage("lost"), by=alice)

    services.opportunity_move_stage(
        opportunity=opportunity, stage=stage("lost"), by=alice, lost_reason=price_reason
    )

    opportunity.refresh_from_db()
    assert opportunity.lost_reason == price_reason
    assert opportunity.closed_at is not None
    assert "opportunity.lost" in event_names(opportunity)


def test_a_lost_opportunity_reopens_only_into_an_open_stage(
    alice, opportunity, stage, price_reason
):
    services.opportunity_move_stage(
        opportunity=opportunity, stage=stage("lost"), by=alice, lost_reason=price_reason
    )
    with pytest.raises(ValidationError):
        services.opportunity_move_stage(opportunity=opportunity, stage=stage("collected"), by=alice)

    services.opportunity_move_stage(opportunity=opportunity, stage=stage("proposal"), by=alice)

    opportunity.refresh_from_db()
    assert opportunity.lost_reason is None
    assert opportunity.closed_at is None


def test_a_colleague_outside_the_line_may_not_move_it(bob, charlie, opportunity, stage):
    for user in (bob, charlie):
        with pytest.raises(PermissionDenied):
            services.opportunity_move_stage(
                opportunity=opportunity, stage=stage("negotiation"), by=user
            )


def test_the_manager_may_move_it(manager, opportunity, stage):
    services.opportunity_move_stage(opportunity=opportunity, stage=stage("negotiation"), by=manager)

    assert opportunity.stage.code == "negotiation"


def test_order_wins_the_opportunity_and_the_customer(alice, opportunity, won_order):
    opportunity.refresh_from_db()
    customer = Customer.objects.get(pk=opportunity.customer_id)

    assert opportunity.stage.code == "won"
    assert won_order.number.startswith("SO")
    assert customer.type == Customer.Type.WON
    assert customer.last_cooperation_at is not None
    assert event_names(opportunity)[-2:] == ["opportunity.stage_changed", "opportunity.won"]
    assert DomainEvent.objects.filter(name="customer.changed", object_id=customer.pk).exists()


def test_a_failing_customer_upgrade_leaves_order_and_opportunity_unchanged(alice, opportunity):
    with (
        mock.patch.object(
            customer_services, "customer_update", side_effect=ValidationError("boom")
        ),
        pytest.raises(ValidationError),
    ):
        services.order_create(
            opportunity=opportunity,
            by=alice,
            amount=Decimal("200000"),
            signed_on=timezone.localdate(),
        )

    opportunity.refresh_from_db()
    assert opportunity.stage.code == "proposal"
    assert not Order.objects.exists()
    assert Customer.objects.get(pk=opportunity.customer_id).type != Customer.Type.WON


def test_an_opportunity_has_one_order(alice, opportunity, won_order):
    with pytest.raises(ValidationError):
        services.order_create(
            opportunity=opportunity, by=alice, amount=Decimal(1), signed_on=timezone.localdate()
        )


def test_order_copies_the_line_items(alice, opportunity):
    services.line_add(
        opportunity=opportunity,
        by=alice,
        product="服务器",
        unit_price=Decimal("5000"),
        quantity=Decimal(4),
    )

    order = services.order_create(
        opportunity=opportunity, by=alice, amount=Decimal("20000"), signed_on=timezone.localdate()
    )

    assert [(line.product, line.total) for line in order.lines.all()] == [
        ("服务器", Decimal("20000.00"))
    ]


def test_amount_from_line_items(alice, alices_customer, make_opportunity):
    opportunity = make_opportunity(
        alices_customer,
        alice,
        amount="0",
        amount_from_lines=True,
        lines=[{"product": "软件许可", "unit_price": Decimal("1200.50"), "quantity": Decimal(3)}],
    )
    assert opportunity.amount == Decimal("3601.50")

    services.line_add(
        opportunity=opportunity,
        by=alice,
        product="实施服务",
        unit_price=Decimal("0.10"),
        quantity=Decimal("0.5"),
    )

    opportunity.refresh_from_db()
    assert opportunity.amount == Decimal("3601.55")


def test_milestones_are_created_once_per_opportunity(alice, opportunity, stage):
    """The proposal stage's seeded milestone: one task due in 3 days, not again on re-entry."""
    milestone = MilestoneTask.objects.get(opportunity=opportunity)
    assert milestone.task.owner == alice
    assert milestone.task.customer == opportunity.customer
    due_in = milestone.task.due_at - StageVisit.objects.get(opportunity=opportunity).entered_at
    assert due_in == datetime.timedelta(days=3)

    services.opportunity_move_stage(
        opportunity=opportunity, stage=stage("needs_confirmed"), by=alice
    )
    services.opportunity_move_stage(opportunity=opportunity, stage=stage("proposal"), by=alice)

    assert MilestoneTask.objects.filter(opportunity=opportunity).count() == 1
    assert FollowUpTask.objects.filter(customer=opportunity.customer).count() == 1


def test_the_furthest_stage_reached_only_ever_moves_forward(
    alice, opportunity, stage, price_reason
):
    """The funnel's figure: an opportunity at proposal that falls back to needs confirmed and
    is then lost still reached proposal."""
    from opportunities import services

    opportunity.refresh_from_db()
    assert opportunity.furthest_stage == stage("proposal")
    services.opportunity_move_stage(
        opportunity=opportunity, stage=stage("needs_confirmed"), by=alice
    )
    services.opportunity_move_stage(
        opportunity=opportunity, stage=stage("lost"), by=alice, lost_reason=price_reason
    )
    opportunity.refresh_from_db()
    assert opportunity.furthest_stage == stage("proposal")
    type(opportunity).objects.filter(pk=opportunity.pk).update(furthest_stage=None)
    type(opportunity).objects.filter(pk=opportunity.pk).refresh_furthest_stage()
    opportunity.refresh_from_db()
    assert opportunity.furthest_stage == stage("proposal")
