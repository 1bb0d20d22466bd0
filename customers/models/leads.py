from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models.customers import Customer
from customers.models.dictionaries import SourceChannel


class LeadSource(models.Model):
    """A website or exhibition that posts leads to the API with its own key."""

    name = models.CharField(_("name"), max_length=100)
    channel = models.ForeignKey(
        SourceChannel, on_delete=models.PROTECT, verbose_name=_("source channel")
    )
    api_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")

    def __str__(self) -> str:
        return self.name


class LeadInquiry(models.Model):
    """One captured inquiry: a new customer or, for a known phone, an addition to one."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="inquiries")
    source = models.ForeignKey(SourceChannel, on_delete=models.PROTECT)
    contact_name = models.CharField(max_length=100)
    message = models.TextField(blank=True)
    created_new = models.BooleanField(default=True)
    captured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-captured_at"]
        verbose_name = _("lead inquiry")
        verbose_name_plural = _("lead inquiries")

    def __str__(self) -> str:
        return f"{self.contact_name} @ {self.captured_at:%Y-%m-%d %H:%M}"
