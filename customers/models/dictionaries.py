from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Dictionary(models.Model):
    """A dictionary entry (数据字典) with its Chinese and English labels, edited in admin."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class CustomerCategory(Dictionary):
    """客户分类: enterprise, individual, institution — each with a default owner."""

    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default owner"),
    )

    class Meta(Dictionary.Meta):
        verbose_name = _("customer category")
        verbose_name_plural = _("customer categories")


class Industry(Dictionary):
    """所属行业, two levels after GB/T 4754 (sections and divisions)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent industry"),
    )

    class Meta(Dictionary.Meta):
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self) -> str:
        if self.parent_id and self.parent:
            return f"{self.parent.label} / {self.label}"
        return self.label


class CustomerScale(Dictionary):
    """客户规模: large enterprise, SME, individual business."""

    class Meta(Dictionary.Meta):
        verbose_name = _("customer scale")
        verbose_name_plural = _("customer scales")


class DemandTag(Dictionary):
    """需求标签 and free tags (价格敏感型 …)."""

    class Kind(models.TextChoices):
        DEMAND = "demand", _("Demand")
        FREE = "free", _("Free tag")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DEMAND)

    class Meta(Dictionary.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["name"], name="demand_tag_unique_name")]


class SourceChannel(Dictionary):
    """来源渠道, with the tags a lead from it gets by default."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    default_tags = models.ManyToManyField(
        DemandTag, blank=True, related_name="+", verbose_name=_("default tags")
    )

    class Meta(Dictionary.Meta):
        verbose_name = _("source channel")
        verbose_name_plural = _("source channels")


class CustomerLevel(Dictionary):
    """客户等级 (A, B, C …): a key field whose change needs approval."""

    class Meta(Dictionary.Meta):
        verbose_name = _("customer level")
        verbose_name_plural = _("customer levels")


class FieldDefinition(models.Model):
    """A field defined in admin (自定义字段): label, type, options and whether it is required.
    Concrete definitions add their key and say which records carry the values."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    label = models.CharField(_("label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For a choice field: one option per line.")
    )
    required = models.BooleanField(_("required"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label

    def option_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.type == self.Type.CHOICE and not self.option_list():
            raise ValidationError({"choices": _("A choice field needs at least one option.")})


class CustomField(FieldDefinition):
    """A field defined in admin that appears on the customer form and list filters."""

    key = models.SlugField(
        _("key"),
        max_length=40,
        unique=True,
        help_text=_("Letters, digits and underscores; used in filters and imports."),
    )

    class Meta(FieldDefinition.Meta):
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")


class Tier(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")
