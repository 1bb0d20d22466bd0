from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Role
from crm.core.links import record_url


class ApprovalRequestQuerySet(models.QuerySet["ApprovalRequest"]):
    def visible_to(self, user) -> ApprovalRequestQuerySet:  # type: ignore[no-untyped-def]
        """Requesters see their requests, approvers those they decide, admins all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_role(Role.ADMIN):
            return self.all()
        return self.filter(Q(requester=user) | Q(approver=user))

    def pending(self) -> ApprovalRequestQuerySet:
        return self.filter(status=ApprovalRequest.Status.PENDING)


class ApprovalRequest(models.Model):
    """A request (变更申请 / 删除申请 / 导出申请) waiting for, or carrying, a decision."""

    class Action(models.TextChoices):
        CHANGE = "change", _("Change")
        DELETE = "delete", _("Deletion")
        EXPORT = "export", _("Export")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.PENDING: {Status.APPROVED, Status.DENIED, Status.CANCELLED},
    }

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    kind = models.CharField(_("kind"), max_length=100)
    summary = models.CharField(_("summary"), max_length=300)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approval_requests",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approvals_to_decide",
        verbose_name=_("approver"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["approver", "status"]),
            models.Index(fields=["requester", "-created_at"]),
            models.Index(fields=["target_type", "target_id", "status"]),
        ]
        constraints = [
            # Two people asking at once must not file two pending requests for one record.
            models.UniqueConstraint(
                fields=["kind", "target_type", "target_id"],
                condition=Q(status="pending"),
                name="approval_one_pending_per_target",
            )
        ]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")

    def __str__(self) -> str:
        return self.summary

    def get_absolute_url(self) -> str:
        return record_url("approvals:detail", self.pk)

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.Status(self.status), set())

    @property
    def kind_label(self) -> str:
        from crm.approvals import registry

        try:
            return str(registry.get(self.kind).label)
        except LookupError:
            return self.kind


class FileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


class ExportRequestQuerySet(models.QuerySet[Any]):
    def visible_to(self, user) -> ExportRequestQuerySet:  # type: ignore[no-untyped-def]
        """Only the requester: the download link is theirs alone."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(user=user)

    def usable(self, now) -> ExportRequestQuerySet:  # type: ignore[no-untyped-def]
        """Approved, unexpired and not yet downloaded."""
        return self.filter(
            approved_at__isnull=False, expires_at__gt=now, used_at__isnull=True
        ).exclude(token=None)


class ExportRequest(models.Model):
    """A request for an export holding contact data (导出申请): approved, it becomes a
    single-use download link for its requester. Each app that exports contact data keeps its
    own concrete model, with the ``user`` who asked and what the file covers."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        DENIED = "denied", _("Denied")
        CANCELLED = "cancelled", _("Withdrawn")
        READY = "ready", _("Ready to download")
        EXPIRED = "expired", _("Link expired")
        USED = "used", _("Downloaded")

    query = models.CharField(_("filter"), max_length=2000, blank=True)
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    row_count = models.PositiveIntegerField(_("rows when requested"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    approval = models.ForeignKey(
        "approvals.ApprovalRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approval request"),
    )
    token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    used_at = models.DateTimeField(_("downloaded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)

    objects = ExportRequestQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"  # type: ignore[attr-defined]

    @property
    def state(self) -> ExportRequest.State:
        if self.used_at is not None:
            return self.State.USED
        if self.approved_at is not None:
            expired = self.expires_at is None or self.expires_at <= timezone.now()
            return self.State.EXPIRED if expired else self.State.READY
        status = self.approval.status if self.approval_id and self.approval else ""
        if status in (self.State.DENIED, self.State.CANCELLED):
            return self.State(status)
        return self.State.PENDING
