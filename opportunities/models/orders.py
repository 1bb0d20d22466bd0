"""Orders (订单) of won opportunities, their payment plan (回款计划) and receipts."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import (
    Case,
    DecimalField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.core.links import record_url
from crm.core.visibility import VisibleQuerySet
from customers.models import Customer
from opportunities.models.pipeline import MONEY, Opportunity, ProductLine

ZERO = Value(Decimal(0), output_field=DecimalField(**MONEY))


def _summed(queryset: models.QuerySet, field: str = "amount") -> Coalesce:
    """A correlated SUM subquery: one column per row, no join fan-out."""
    total = queryset.order_by().values(queryset.model._meta.get_field("order").attname)
    return Coalesce(
        Subquery(total.annotate(total=Sum(field)).values("total")[:1]),
        ZERO,
        output_field=DecimalField(**MONEY),
    )


class OrderQuerySet(VisibleQuerySet["Order"]):
    owner_field = "owner"

    def with_payments(self, today: datetime.date) -> OrderQuerySet:
        """``collected``, ``outstanding`` and ``overdue`` (the unpaid part of instalments due
        before ``today``), each a subquery."""
        overdue_instalments = Instalment.objects.filter(order=OuterRef("pk"), due_date__lt=today)
        return self.annotate(
            collected=_summed(Receipt.objects.filter(order=OuterRef("pk"))),
            overdue_planned=_summed(overdue_instalments),
            overdue_paid=_summed(
                Receipt.objects.filter(order=OuterRef("pk"), instalment__due_date__lt=today)
            ),
        ).annotate(
            outstanding=models.F("amount") - models.F("collected"),
            overdue=Case(
                When(
                    overdue_planned__gt=models.F("overdue_paid"),
                    then=models.F("overdue_planned") - models.F("overdue_paid"),
                ),
                default=ZERO,
                output_field=DecimalField(**MONEY),
            ),
        )


class Order(models.Model):
    """订单: what was signed for a won opportunity."""

    number = models.CharField(_("order number"), max_length=40, unique=True)
    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.PROTECT, related_name="order", verbose_name=_("opportunity")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("owner"),
    )
    amount = models.DecimalField(_("amount (¥)"), **MONEY, validators=[MinValueValidator(0)])
    signed_on = models.DateField(_("signing date"))
    contract_ends_on = models.DateField(_("contract end date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # Covering: the dashboards' sales per month and rep, from the index alone.
            models.Index(fields=["signed_on"], include=["owner", "amount"], name="order_signed"),
            models.Index(fields=["contract_ends_on"]),
            models.Index(fields=["owner", "signed_on"]),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return record_url("opportunities:order", self.pk)


class OrderLine(ProductLine):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )

    class Meta(ProductLine.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")


class InstalmentQuerySet(models.QuerySet["Instalment"]):
    def with_collected(self) -> InstalmentQuerySet:
        return self.annotate(
            collected=Coalesce(Sum("receipts__amount"), ZERO, output_field=DecimalField(**MONEY))
        )


class Instalment(models.Model):
    """One due date and amount of the payment plan (回款计划)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="instalments", verbose_name=_("order")
    )
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(
        _("amount (¥)"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    paid_at = models.DateTimeField(_("fully paid at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = InstalmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("instalment")
        verbose_name_plural = _("payment plan")
        indexes = [
            # The overdue sweep: unpaid instalments not yet reported.
            models.Index(
                fields=["due_date"],
                name="instalment_overdue_scan",
                condition=Q(paid_at__isnull=True, overdue_notified_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.due_date:%Y-%m-%d}"

    def is_overdue(self, today: datetime.date) -> bool:
        return self.paid_at is None and self.due_date < today


class Receipt(models.Model):
    """回款: money received against an instalment."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("order")
    )
    instalment = models.ForeignKey(
        Instalment, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("instalment")
    )
    amount = models.DecimalField(
        _("amount (¥)"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))]
    )
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self) -> str:
        return f"{self.order} · {self.amount}"
