"""The pipeline's dictionaries, edited in admin: sales stages (with win probability, order,
milestone tasks and the stale-reminder threshold), lost reasons, objection types, sales targets."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Dictionary, FieldDefinition


class NamedEntry(Dictionary):
    """A pipeline dictionary entry: a customers ``Dictionary`` with a stable code, and shorter
    names."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)

    class Meta(Dictionary.Meta):
        abstract = True


class Stage(NamedEntry):
    """销售阶段. ``kind`` drives the pipeline's rules; ``probability`` weighs the forecast."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        COLLECTED = "collected", _("Payment collected")
        LOST = "lost", _("Lost")

    class ForecastCategory(models.TextChoices):
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        CLOSED = "closed", _("Closed")
        OMITTED = "omitted", _("Omitted")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), validators=[MaxValueValidator(100)]
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=20,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    stale_after_days = models.PositiveSmallIntegerField(
        _("remind the owner after days untouched"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: no reminder for this stage."),
    )

    class Meta(NamedEntry.Meta):
        verbose_name = _("sales stage")
        verbose_name_plural = _("sales stages")

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN

    @property
    def is_closed(self) -> bool:
        return self.kind != self.Kind.OPEN

    def may_move_to(self, other: Stage) -> bool:
        """The allowed transitions: open stages move freely among themselves and to won or lost;
        won moves on to payment collected; a lost opportunity may be reopened."""
        if other.pk == self.pk or not other.is_active:
            return False
        if self.kind == self.Kind.OPEN:
            return other.kind in {self.Kind.OPEN, self.Kind.WON, self.Kind.LOST}
        if self.kind == self.Kind.WON:
            return other.kind == self.Kind.COLLECTED
        if self.kind == self.Kind.LOST:
            return other.kind == self.Kind.OPEN
        return False


class StageTaskTemplate(models.Model):
    """A milestone: a follow-up task created once when an opportunity enters the stage."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="task_templates", verbose_name=_("stage")
    )
    title = models.CharField(_("task"), max_length=200)
    due_in_days = models.PositiveSmallIntegerField(_("due within days"), default=3)
    content = models.TextField(_("content"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["stage__sort_order", "due_in_days", "id"]
        verbose_name = _("stage milestone task")
        verbose_name_plural = _("stage milestone tasks")

    def __str__(self) -> str:
        return self.title


class LostReason(NamedEntry):
    """输单原因."""

    class Meta(NamedEntry.Meta):
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")


class ObjectionType(NamedEntry):
    """异议类型: price too high, function mismatch …"""

    class Meta(NamedEntry.Meta):
        verbose_name = _("objection type")
        verbose_name_plural = _("objection types")


class SalesTarget(models.Model):
    """销售目标 for a month: the company's (no owner, no team), a team's or a rep's."""

    month = models.DateField(_("month"), help_text=_("Any day of the month; stored as the 1st."))
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("team")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("sales rep"),
    )
    amount = models.DecimalField(_("target (¥)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "team", "owner"],
                nulls_distinct=False,
                name="one_target_per_month_and_scope",
            )
        ]

    def __str__(self) -> str:
        scope = self.owner or self.team or _("Company")
        return f"{self.month:%Y-%m} · {scope}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.month = self.month.replace(day=1)
        super().save(*args, **kwargs)


class OpportunityField(FieldDefinition):
    """A custom field (自定义字段) on opportunities, defined in admin: shown and validated on
    the opportunity form, filterable on the board and the list. Same types as the customers'."""

    key = models.SlugField(
        _("key"),
        max_length=40,
        unique=True,
        help_text=_("Letters, digits and underscores; used in filters."),
    )

    class Meta(FieldDefinition.Meta):
        verbose_name = _("opportunity custom field")
        verbose_name_plural = _("opportunity custom fields")
