from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    """A user's saved list filter (我的视图)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_views"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class TierSettings(models.Model):
    """Thresholds for the nightly tier and lifecycle job, edited in admin (one row)."""

    high_value_from = models.DecimalField(
        _("high value from (¥ a year)"), max_digits=14, decimal_places=2, default=Decimal("500000")
    )
    medium_value_from = models.DecimalField(
        _("medium value from (¥ a year)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("100000"),
    )
    high_activity_per_month = models.PositiveSmallIntegerField(
        _("high activity from (interactions a month)"), default=3
    )
    medium_activity_per_month = models.PositiveSmallIntegerField(
        _("medium activity from (interactions a month)"), default=1
    )
    lost_after_months = models.PositiveSmallIntegerField(
        _("lost after months without cooperation"), default=3
    )

    class Meta:
        verbose_name = _("tier settings")
        verbose_name_plural = _("tier settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> TierSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


def months_ago(now: datetime.datetime, months: int) -> datetime.datetime:
    return now - datetime.timedelta(days=round(30.44 * months))
