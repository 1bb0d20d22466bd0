from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Role


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
        return reverse("approvals:detail", args=[self.pk])

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.Status(self.status), set())

    @property
    def kind_label(self) -> str:
        from crm.approvals import registry

        try:
            return str(registry.get(self.kind).label)
        except LookupError:
            return self.kind
