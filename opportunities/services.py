"""The pipeline's use cases: opportunities and their stage changes, milestones, objections,
competitors and line items; orders, payment plans and receipts.

Every write that changes a stage goes through ``opportunity_move_stage``: it checks the allowed
transitions, closes the current stay in the stage history and opens the next, creates the new
stage's milestone tasks once, and emits its events in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Level, Role
from crm.core import events
from crm.core.choices import cached_rows
from crm.core.numbering import next_number
from customers import services as customer_services
from customers.models import Customer
from followups import services as followup_services
from opportunities.events import (
    OPPORTUNITY_CREATED,
    OPPORTUNITY_LOST,
    OPPORTUNITY_STAGE_CHANGED,
    OPPORTUNITY_WON,
)
from opportunities.models import (
    Competitor,
    Instalment,
    LostReason,
    MilestoneTask,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityLine,
    Order,
    OrderLine,
    Receipt,
    Stage,
    StageTaskTemplate,
    StageVisit,
)
from opportunities.models.pipeline import FUNNEL_KINDS

ORDER_PREFIX = "SO"
UPDATABLE = {
    "name",
    "amount",
    "amount_from_lines",
    "expected_close_date",
    "source",
    "next_step",
    "owner",
    "custom_data",
}


# --- who may do what ------------------------------------------------------------------------------


def can_change(opportunity: Opportunity, user: User) -> bool:
    """The owner, a manager over the owner's team, or an administrator. Analysts only read."""
    if user.is_superuser or Role.ADMIN in user.roles:
        return True
    if opportunity.owner_id == user.pk:
        return True
    visibility = user.visibility
    if visibility.level in {Level.TEAM, Level.DEPARTMENT} and Role.SALES_MANAGER in user.roles:
        owner_team = opportunity.owner.team_id
        return owner_team is not None and owner_team in visibility.team_ids
    return False


def check_can_change(opportunity: Opportunity, user: User) -> None:
    if not can_change(opportunity, user):
        raise PermissionDenied(_("Only the owner, their manager or an administrator may do this."))


def can_see_finance(user: User) -> bool:
    """The finance view (财务): sales managers, analysts and administrators."""
    return bool(user.is_superuser or user.roles & {Role.SALES_MANAGER, Role.ANALYST, Role.ADMIN})


def first_stage() -> Stage:
    stage = Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).first()
    if stage is None:
        raise ValidationError(_("No open sales stage is configured."))
    return stage


def _touch(opportunity: Opportunity, by: User | None, now: datetime.datetime) -> None:
    opportunity.touched_at = now
    opportunity._history_user = by  # type: ignore[attr-defined]


def _snapshot(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "stage": opportunity.stage.code,
        "amount": str(opportunity.amount),
        "owner": opportunity.owner_id,
        "customer": opportunity.customer_id,
    }


# --- opportunities --------------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    customer: Customer,
    by: User,
    name: str,
    expected_close_date: datetime.date,
    owner: User | None = None,
    stage: Stage | None = None,
    lines: Iterable[dict[str, Any]] = (),
    competitors: Iterable[dict[str, Any]] = (),
    **fields: Any,
) -> Opportunity:
    """创建销售机会 on a customer; the creator owns it unless another owner is given. The first
    stay in the stage history opens, and that stage's milestone tasks are created."""
    stage = stage or first_stage()
    if not stage.is_open:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage.")})
    now = timezone.now()
    opportunity = Opportunity(
        customer=customer,
        name=name,
        owner=owner or by,
        stage=stage,
        expected_close_date=expected_close_date,
        created_by=by,
        created_at=now,
        stage_entered_at=now,
        touched_at=now,
        **fields,
    )
    opportunity._history_user = by  # type: ignore[attr-defined]
    opportunity.full_clean()
    opportunity.save()
    for line in lines:
        OpportunityLine.objects.create(opportunity=opportunity, **line)
    for competitor in competitors:
        Competitor.objects.create(opportunity=opportunity, **competitor)
    if opportunity.amount_from_lines:
        _recompute_amount(opportunity)
    _enter_stage(opportunity, stage=stage, from_stage=None, by=by, now=now)
    events.emit(OPPORTUNITY_CREATED, opportunity, actor=by, data=_snapshot(opportunity))
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, by: User, **changes: Any) -> Opportunity:
    """Edits the opportunity's own fields; the stage changes only through
    ``opportunity_move_stage``."""
    check_can_change(opportunity, by)
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(opportunity, name, value)
    _touch(opportunity, by, timezone.now())
    opportunity.full_clean()
    opportunity.save()
    if opportunity.amount_from_lines:
        _recompute_amount(opportunity)
    return opportunity


def _recompute_amount(opportunity: Opportunity) -> None:
    total = sum((line.total for line in opportunity.lines.all()), Decimal(0))
    if opportunity.amount != total:
        opportunity.amount = total
        opportunity.save(update_fields=["amount"])


@transaction.atomic
def line_add(
    *,
    opportunity: Opportunity,
    by: User,
    product: str,
    unit_price: Decimal,
    quantity: Decimal,
) -> OpportunityLine:
    check_can_change(opportunity, by)
    line = OpportunityLine(
        opportunity=opportunity, product=product, unit_price=unit_price, quantity=quantity
    )
    line.full_clean()
    line.save()
    _touch(opportunity, by, timezone.now())
    opportunity.save(update_fields=["touched_at"])
    if opportunity.amount_from_lines:
        _recompute_amount(opportunity)
    return line


@transaction.atomic
def line_remove(*, line: OpportunityLine, by: User) -> None:
    opportunity = line.opportunity
    check_can_change(opportunity, by)
    line.delete()
    if opportunity.amount_from_lines:
        _recompute_amount(opportunity)


@transaction.atomic
def competitor_add(*, opportunity: Opportunity, by: User, **fields: Any) -> Competitor:
    check_can_change(opportunity, by)
    competitor = Competitor(opportunity=opportunity, **fields)
    competitor.full_clean()
    competitor.save()
    return competitor


@transaction.atomic
def competitor_remove(*, competitor: Competitor, by: User) -> None:
    check_can_change(competitor.opportunity, by)
    competitor.delete()


@transaction.atomic
def objection_add(
    *, opportunity: Opportunity, by: User, type: ObjectionType, description: str, **fields: Any
) -> Objection:
    """异议处理: records an objection; solution and the customer's response may follow later."""
    check_can_change(opportunity, by)
    objection = Objection(
        opportunity=opportunity, type=type, description=description, recorded_by=by, **fields
    )
    objection.full_clean()
    objection.save()
    _touch(opportunity, by, timezone.now())
    opportunity.save(update_fields=["touched_at"])
    return objection


@transaction.atomic
def objection_update(*, objection: Objection, by: User, **changes: Any) -> Objection:
    check_can_change(objection.opportunity, by)
    for name in ("solution", "customer_response", "resolved"):
        if name in changes:
            setattr(objection, name, changes[name])
    objection.full_clean()
    objection.save()
    return objection


# --- stages ---------------------------------------------------------------------------------------


def allowed_stages(opportunity: Opportunity) -> list[Stage]:
    """The stages the opportunity may move to, for the screens (from the cache of the stage
    dictionary; the move itself checks the stage it is given)."""
    stages = cached_rows(Stage.objects.filter(is_active=True))
    return [stage for stage in stages if opportunity.stage.may_move_to(stage)]


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: User,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
) -> Opportunity:
    """Moves to ``stage`` if the transition is allowed: won needs an order, lost needs a reason.
    Records the stage history, creates the new stage's milestone tasks and emits
    ``opportunity.stage_changed`` (and ``opportunity.won`` / ``opportunity.lost``)."""
    check_can_change(opportunity, by)
    locked = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    current = locked.stage
    if not current.may_move_to(stage):
        raise ValidationError(
            _("An opportunity cannot move from “%(from)s” to “%(to)s”.")
            % {"from": current, "to": stage}
        )
    if stage.kind == Stage.Kind.WON and not Order.objects.filter(opportunity=locked).exists():
        raise ValidationError(
            _("Record the order first: an opportunity is won only with its order.")
        )
    if stage.kind == Stage.Kind.COLLECTED and not _fully_collected(locked):
        raise ValidationError(_("The order has not been fully paid yet."))
    if stage.kind == Stage.Kind.LOST and lost_reason is None:
        raise ValidationError({"lost_reason": _("Give the reason the opportunity was lost.")})
    now = timezone.now()
    locked.stage = stage
    locked.stage_entered_at = now
    if stage.kind == Stage.Kind.LOST:
        locked.lost_reason = lost_reason
        locked.lost_note = lost_note
    elif stage.kind == Stage.Kind.OPEN:
        locked.lost_reason = None
        locked.lost_note = ""
    locked.closed_at = None if stage.is_open else (locked.closed_at or now)
    _touch(locked, by, now)
    locked.save()
    _enter_stage(locked, stage=stage, from_stage=current, by=by, now=now)
    data = {**_snapshot(locked), "from_stage": current.code, "changed": ["stage"]}
    events.emit(OPPORTUNITY_STAGE_CHANGED, locked, actor=by, data=data)
    if stage.kind == Stage.Kind.WON:
        events.emit(OPPORTUNITY_WON, locked, actor=by, data=data)
    elif stage.kind == Stage.Kind.LOST:
        events.emit(OPPORTUNITY_LOST, locked, actor=by, data=data)
    opportunity.refresh_from_db()
    return opportunity


def _enter_stage(
    opportunity: Opportunity,
    *,
    stage: Stage,
    from_stage: Stage | None,
    by: User | None,
    now: datetime.datetime,
) -> None:
    StageVisit.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=now)
    StageVisit.objects.create(
        opportunity=opportunity, stage=stage, from_stage=from_stage, entered_at=now, by=by
    )
    if stage.kind in FUNNEL_KINDS:
        # Further than it ever went: the funnel counts it up to this stage from now on.
        Opportunity.objects.filter(pk=opportunity.pk).filter(
            Q(furthest_stage__isnull=True) | Q(furthest_stage__sort_order__lt=stage.sort_order)
        ).update(furthest_stage=stage)
    milestones_create(opportunity=opportunity, stage=stage, now=now)


def milestones_create(
    *, opportunity: Opportunity, stage: Stage, now: datetime.datetime
) -> list[MilestoneTask]:
    """The stage's milestone tasks for the owner, each due its offset from now; a template
    that already produced a task for this opportunity produces none again."""
    done = set(
        MilestoneTask.objects.filter(opportunity=opportunity).values_list("template_id", flat=True)
    )
    created = []
    templates = StageTaskTemplate.objects.filter(stage=stage, is_active=True)
    for template in templates.exclude(pk__in=done):
        task = followup_services.task_create(
            customer=opportunity.customer,
            owner=opportunity.owner,
            by=opportunity.owner,
            title=f"{template.title} · {opportunity.name}"[:200],
            due_at=now + datetime.timedelta(days=template.due_in_days),
            content=template.content,
        )
        try:
            with transaction.atomic():
                created.append(
                    MilestoneTask.objects.create(
                        opportunity=opportunity, template=template, task=task, created_at=now
                    )
                )
        except IntegrityError:  # a concurrent entry made it: drop ours
            task.delete()
    return created


# --- orders, payment plans and receipts -----------------------------------------------------------


def _fully_collected(opportunity: Opportunity) -> bool:
    order = Order.objects.filter(opportunity=opportunity).first()
    if order is None:
        return False
    collected = order.receipts.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return collected >= order.amount


@transaction.atomic
def order_create(
    *,
    opportunity: Opportunity,
    by: User,
    amount: Decimal,
    signed_on: datetime.date,
    number: str = "",
    contract_ends_on: datetime.date | None = None,
    notes: str = "",
    lines: Iterable[dict[str, Any]] | None = None,
) -> Order:
    """Links the signed order and wins the opportunity; in the same transaction the customer
    becomes won (成交客户). Without ``lines`` the opportunity's line items are copied."""
    check_can_change(opportunity, by)
    locked = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    if Order.objects.filter(opportunity=locked).exists():
        raise ValidationError(_("This opportunity already has an order."))
    if not locked.stage.is_open:
        raise ValidationError(_("Only an open opportunity can be won."))
    if contract_ends_on is not None and contract_ends_on < signed_on:
        raise ValidationError(
            {"contract_ends_on": _("The contract cannot end before it is signed.")}
        )
    won = Stage.objects.filter(kind=Stage.Kind.WON, is_active=True).first()
    if won is None:
        raise ValidationError(_("No won stage is configured."))
    number = number.strip() or next_number(ORDER_PREFIX, day=signed_on)
    if Order.objects.filter(number=number).exists():
        raise ValidationError({"number": _("An order with this number exists already.")})
    order = Order(
        number=number,
        opportunity=locked,
        customer=locked.customer,
        owner=locked.owner,
        amount=amount,
        signed_on=signed_on,
        contract_ends_on=contract_ends_on,
        notes=notes,
        created_by=by,
    )
    order._history_user = by  # type: ignore[attr-defined]
    order.full_clean()
    order.save()
    source_lines = (
        lines if lines is not None else locked.lines.values("product", "unit_price", "quantity")  # type: ignore[assignment]
    )
    OrderLine.objects.bulk_create(OrderLine(order=order, **line) for line in source_lines)
    opportunity_move_stage(opportunity=locked, stage=won, by=by)
    _customer_won(locked.customer, signed_on=signed_on, by=by)
    opportunity.refresh_from_db()
    return order


def _customer_won(customer: Customer, *, signed_on: datetime.date, by: User) -> None:
    locked = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
    signed_at = timezone.make_aware(datetime.datetime.combine(signed_on, datetime.time(12)))
    changes: dict[str, Any] = {
        "type": Customer.Type.WON,
        "lifecycle": Customer.Lifecycle.COOPERATING,
    }
    if locked.last_cooperation_at is None or locked.last_cooperation_at < signed_at:
        changes["last_cooperation_at"] = signed_at
    customer_services.customer_update(customer=locked, by=by, changes=changes)


@transaction.atomic
def instalment_add(
    *, order: Order, by: User, due_date: datetime.date, amount: Decimal, note: str = ""
) -> Instalment:
    """One instalment of the payment plan; the plan never exceeds the order's amount."""
    check_can_change(order.opportunity, by)
    locked = Order.objects.select_for_update().get(pk=order.pk)
    planned = locked.instalments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if planned + amount > locked.amount:
        raise ValidationError(
            {
                "amount": _("The payment plan would exceed the order amount by ¥%(over)s.")
                % {"over": f"{planned + amount - locked.amount:,.2f}"}
            }
        )
    instalment = Instalment(order=locked, due_date=due_date, amount=amount, note=note)
    instalment.full_clean()
    instalment.save()
    return instalment


@transaction.atomic
def receipt_record(
    *,
    instalment: Instalment,
    by: User,
    amount: Decimal,
    received_on: datetime.date,
    reference: str = "",
) -> Receipt:
    """回款 against an instalment, never more than it still owes. A fully paid instalment is
    marked paid; a fully paid order moves a won opportunity on to payment collected."""
    order = instalment.order
    check_can_change(order.opportunity, by)
    locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
    collected = locked.receipts.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    owed = locked.amount - collected
    if amount > owed:
        raise ValidationError(
            {
                "amount": _("Only ¥%(owed)s is still owed on this instalment.")
                % {"owed": f"{owed:,.2f}"}
            }
        )
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("A payment cannot be received in the future.")})
    receipt = Receipt(
        order=order,
        instalment=locked,
        amount=amount,
        received_on=received_on,
        reference=reference,
        recorded_by=by,
    )
    receipt._history_user = by  # type: ignore[attr-defined]
    receipt.full_clean()
    receipt.save()
    if amount == owed:
        locked.paid_at = timezone.now()
        locked.save(update_fields=["paid_at"])
    opportunity = Opportunity.objects.select_related("stage").get(pk=order.opportunity_id)
    collected_stage = Stage.objects.filter(kind=Stage.Kind.COLLECTED, is_active=True).first()
    if (
        collected_stage is not None
        and opportunity.stage.kind == Stage.Kind.WON
        and _fully_collected(opportunity)
    ):
        opportunity_move_stage(opportunity=opportunity, stage=collected_stage, by=by)
    return receipt
