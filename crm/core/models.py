from __future__ import annotations

import zoneinfo
from typing import Any

import filetype
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


def validate_logo(upload: Any) -> None:
    """A logo must really be an image (judged by its bytes) and small."""
    upload.seek(0)
    kind = filetype.guess(upload.read(8192))
    upload.seek(0)
    if kind is None or kind.mime not in {"image/png", "image/jpeg", "image/gif", "image/webp"}:
        raise ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."), code="bad_type")
    if upload.size > 2 * 1024 * 1024:
        raise ValidationError(_("The logo is too large: at most 2 MB."), code="too_large")


class CompanySettings(models.Model):
    """The one row of company-wide settings (系统设置), edited in admin."""

    CACHE_KEY = "core:company-settings"

    name = models.CharField(_("company name"), max_length=200, default="示例科技有限公司")
    logo = models.FileField(
        _("logo"), upload_to="branding/", blank=True, validators=[validate_logo]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    date_format = models.CharField(
        _("date format"),
        max_length=20,
        default="Y-m-d",
        help_text=_("Django date format, e.g. Y-m-d for 2024-05-15."),
    )
    retention_years = models.PositiveSmallIntegerField(_("data retention (years)"), default=10)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton: there is only ever one row
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> CompanySettings:
        """The settings row, from the cache when possible (pages read it on every request)."""
        company = cache.get(cls.CACHE_KEY)
        if company is None:
            company, _created = cls.objects.get_or_create(pk=1)
            cache.set(company.CACHE_KEY, company, 300)
        return company


class DailySequence(models.Model):
    """The last number handed out per prefix and day; see crm.core.numbering."""

    prefix = models.CharField(max_length=10)
    day = models.DateField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "day"], name="daily_sequence_unique_day")
        ]
        verbose_name = _("daily sequence")
        verbose_name_plural = _("daily sequences")

    def __str__(self) -> str:
        return f"{self.prefix}{self.day:%Y%m%d}: {self.last_value}"


class Heartbeat(models.Model):
    """When a periodic process last ran, for /health/."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random: the user's file name is kept only as data, so it can never
    # steer the path (no traversal, no overwrite).
    return f"attachments/{timezone.now():%Y/%m}/{instance.token}"


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def for_object(self, obj: models.Model) -> AttachmentQuerySet:
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).select_related("uploaded_by")


class Attachment(models.Model):
    """A file attached to any record (附件). Served only through a visibility check."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    token = models.CharField(max_length=64, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("attachment_download", args=[self.pk])


class DomainEvent(models.Model):
    """The outbox: an event written with the change it describes (see crm.core.events)."""

    name = models.CharField(_("event"), max_length=60)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    payload = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["name", "created_at"]),
            models.Index(fields=["content_type", "object_id"]),
            models.Index(
                fields=["created_at"],
                name="domain_event_pending",
                condition=models.Q(delivered_at__isnull=True),
            ),
        ]
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")

    def __str__(self) -> str:
        return f"{self.name} #{self.object_id}"
