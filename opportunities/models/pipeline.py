"""Opportunities (销售机会) with their line items, competitors, stage history, milestone tasks and
objection log."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.core.links import record_url
from crm.core.visibility import VisibleQuerySet
from customers.models import Customer, SourceChannel
from opportunities.models.dictionaries import LostReason, ObjectionType, Stage, StageTaskTemplate

MONEY = {"max_digits": 14, "decimal_places": 2}
# The stages a deal passes on its way to a signed contract (the funnel's steps and beyond).
FUNNEL_KINDS = (Stage.Kind.OPEN, Stage.Kind.WON, Stage.Kind.COLLECTED)


class OpportunityQuerySet(VisibleQuerySet["Opportunity"]):
    def open(self) -> OpportunityQuerySet:
        return self.filter(stage__kind=Stage.Kind.OPEN)

    def refresh_furthest_stage(self) -> int:
        """Sets ``furthest_stage`` from the stage history, in one UPDATE (a backfill, or after
        a bulk load): the visited open or won stage of the highest order."""
        furthest = (
            StageVisit.objects.filter(opportunity=OuterRef("pk"), stage__kind__in=FUNNEL_KINDS)
            .order_by("-stage__sort_order", "-entered_at")
            .values("stage_id")[:1]
        )
        return self.update(furthest_stage=Subquery(furthest))

    def with_weighted(self) -> OpportunityQuerySet:
        """``weighted``: expected amount × the stage's win probability."""
        return self.annotate(
            weighted=ExpressionWrapper(
                F("amount") * F("stage__probability") / Decimal(100),
                output_field=DecimalField(**MONEY),
            )
        )


class Opportunity(models.Model):
    """销售机会: a customer's clear intention, followed from lead to signed order."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("customer"),
    )
    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="opportunities",
        verbose_name=_("owner"),
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage")
    )
    amount = models.DecimalField(
        _("expected amount (¥)"), **MONEY, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    amount_from_lines = models.BooleanField(
        _("amount from line items"),
        default=False,
        help_text=_("Computed as the sum of unit price × quantity of the line items."),
    )
    expected_close_date = models.DateField(_("expected close date"))
    source = models.ForeignKey(
        SourceChannel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("source channel"),
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("lost reason")
    )
    lost_note = models.TextField(_("lost details"), blank=True)
    custom_data = models.JSONField(_("custom fields"), default=dict, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    # The furthest open or won stage it ever reached (by stage order): the conversion funnel
    # counts a deal that skipped a stage as having passed it. Kept by the stage services.
    furthest_stage = models.ForeignKey(
        Stage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("furthest stage reached"),
    )
    # Any change by a person: the stale-in-stage reminder counts from here.
    touched_at = models.DateTimeField(_("last touched"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close_date", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # Dashboards: the funnel of the deals created in a period.
            models.Index(
                fields=["created_at"],
                include=["furthest_stage", "owner"],
                name="opportunity_created",
            ),
            # Dashboards: won and lost by closing month, and the lost reasons, from the index.
            models.Index(
                fields=["closed_at"],
                include=["stage", "owner", "lost_reason"],
                name="opportunity_closed",
                condition=Q(closed_at__isnull=False),
            ),
            # Covering: the funnel of a team's deals created in a period, by owner, from the
            # index alone.
            models.Index(
                fields=["owner", "stage"],
                include=["created_at", "furthest_stage"],
                name="opportunity_owner_stage",
            ),
            # Covering: dashboards sum the open pipeline by expected close month from it.
            models.Index(
                fields=["stage", "expected_close_date"],
                include=["amount", "owner"],
                name="opportunity_stage_close",
            ),
            models.Index(fields=["customer", "stage"]),
            # The board's columns: each stage's most recently moved cards, read backwards.
            models.Index(
                fields=["stage", "stage_entered_at", "id"], name="opportunity_stage_entered"
            ),
            # The list's default order (close date, then id), read a page at a time; and its
            # order by amount (the largest deals first).
            models.Index(fields=["expected_close_date", "id"], name="opportunity_close_date"),
            models.Index(fields=["amount"], name="opportunity_amount"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return record_url("opportunities:detail", self.pk)

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.stage.probability / Decimal(100)).quantize(Decimal("0.01"))


class ProductLine(models.Model):
    """A product line: unit price × quantity (an opportunity's, or an order's)."""

    product = models.CharField(_("product"), max_length=200)
    unit_price = models.DecimalField(
        _("unit price (¥)"), **MONEY, validators=[MinValueValidator(0)]
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.product

    @property
    def total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))


class OpportunityLine(ProductLine):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="lines", verbose_name=_("opportunity")
    )

    class Meta(ProductLine.Meta):
        verbose_name = _("line item")
        verbose_name_plural = _("line items")


class Competitor(models.Model):
    """竞争对手 on one opportunity, with their strengths and weaknesses."""

    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="competitors",
        verbose_name=_("opportunity"),
    )
    name = models.CharField(_("competitor"), max_length=200)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")

    def __str__(self) -> str:
        return self.name


class StageVisit(models.Model):
    """One stay of an opportunity in a stage: the stage history, with entered and left times.
    The stale-in-stage reminder is sent once per stay."""

    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="stage_visits",
        verbose_name=_("opportunity"),
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, verbose_name=_("stage"))
    from_stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from stage"),
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    stale_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["entered_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        indexes = [
            # The stale-in-stage sweep scans current, unreminded stays.
            models.Index(
                fields=["entered_at"],
                name="stage_visit_current",
                condition=Q(left_at__isnull=True, stale_reminded_at__isnull=True),
            ),
            # Dashboards: the time spent in each stage by the stays that ended in a period.
            models.Index(
                fields=["left_at"],
                include=["stage", "entered_at"],
                name="stage_visit_left",
                condition=Q(left_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=Q(left_at__isnull=True),
                name="one_current_stage_visit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.opportunity} · {self.stage}"


class MilestoneTask(models.Model):
    """The follow-up task a stage milestone created for an opportunity: at most one per template,
    however often the opportunity re-enters the stage."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="milestone_tasks"
    )
    template = models.ForeignKey(StageTaskTemplate, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("followups.FollowUpTask", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "template"], name="milestone_once_per_opportunity"
            )
        ]

    def __str__(self) -> str:
        return str(self.template)


class Objection(models.Model):
    """异议处理: what the customer objected to and how it was answered."""

    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="objections",
        verbose_name=_("opportunity"),
    )
    type = models.ForeignKey(ObjectionType, on_delete=models.PROTECT, verbose_name=_("type"))
    description = models.TextField(_("description"))
    solution = models.TextField(_("solution"), blank=True)
    customer_response = models.TextField(_("customer response"), blank=True)
    resolved = models.BooleanField(_("resolved"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return str(self.type)


class ExportLog(models.Model):
    """Every opportunity export: who, which filter, how many rows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    query = models.CharField(_("filter"), max_length=2000, blank=True)
    file_format = models.CharField(_("format"), max_length=10)
    row_count = models.PositiveIntegerField(_("rows"))
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("opportunity export")
        verbose_name_plural = _("opportunity exports")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"
