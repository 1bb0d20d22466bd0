"""Customer import jobs, export requests and the export log (SPEC §1 import/export, §7)."""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.roles import Role
from crm.approvals.models import ExportRequest as BaseExportRequest
from crm.approvals.models import FileFormat
from crm.core.links import record_url


def import_upload_to(instance: ImportJob, filename: str) -> str:
    # A random name: the user's file name is kept for display only and never reaches the disk.
    suffix = PurePath(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        suffix = ""
    return f"customer-imports/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{suffix}"


def _is_admin(user) -> bool:  # type: ignore[no-untyped-def]
    return bool(user.is_superuser or Role.ADMIN in user.roles)


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def visible_to(self, user) -> ImportJobQuerySet:  # type: ignore[no-untyped-def]
        """The user's own jobs; administrators see every job (the import log)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if _is_admin(user):
            return self.all()
        return self.filter(user=user)


class ImportJob(models.Model):
    """One uploaded file: previewed first, then run row by row (导入任务)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWED = "previewed", _("Previewed")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        UPDATE = "update", _("Update the existing customer")
        CREATE = "create", _("Create a new customer anyway")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer_imports",
        verbose_name=_("imported by"),
    )
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.UPLOADED
    )
    on_duplicate = models.CharField(
        _("when a customer already exists"),
        max_length=10,
        choices=OnDuplicate.choices,
        default=OnDuplicate.SKIP,
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default owner"),
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    # [{"row": 3, "field": "电话", "message": "…"}]: the rows that failed or were skipped, and why.
    errors = models.JSONField(_("row problems"), default=list, blank=True)
    # The dry run: {"rows": [first rows and what will happen to each], "totals": {…}, …}.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Set when a run starts and after each batch: a running job silent for long has lost its
    # worker (or its task never reached the broker), and the sweep sends it again.
    progressed_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "progressed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return record_url("customers:import_detail", self.pk)

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ExportRequest(BaseExportRequest):
    """A request for an export with full phone numbers and addresses (导出申请)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer_export_requests",
        verbose_name=_("requested by"),
    )

    class Meta(BaseExportRequest.Meta):
        verbose_name = _("customer export request")
        verbose_name_plural = _("customer export requests")
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(token__isnull=True) | Q(expires_at__isnull=False),
                name="export_request_token_expires",
            )
        ]

    def get_absolute_url(self) -> str:
        return reverse("customers:export")

    def download_url(self) -> str:
        return reverse("customers:export_download", args=[self.token]) if self.token else ""


class ExportLog(models.Model):
    """Every customer export: who, which filter, how many rows, masked or not, and the file's
    hash, so a leaked file can be traced back to its download (SPEC §7)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer_exports",
        verbose_name=_("exported by"),
    )
    query = models.CharField(_("filter"), max_length=2000, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    masked = models.BooleanField(_("masked"), default=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    export_request = models.ForeignKey(
        ExportRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="logs",
        verbose_name=_("export request"),
    )
    created_at = models.DateTimeField(_("exported at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer export")
        verbose_name_plural = _("customer export log")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M} ({self.row_count})"
