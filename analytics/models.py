"""Analytics reads the other apps' records; it keeps only what review meetings produce (action
plans), what only it needs (channel spend, for acquisition cost) and its export trail."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.models import Team
from crm.accounts.roles import Level
from crm.approvals.models import ExportRequest as BaseExportRequest
from crm.approvals.models import FileFormat
from crm.core.visibility import VisibleQuerySet
from customers.models import SourceChannel


class ActionPlanSettings(models.Model):
    remind_days_before = models.PositiveSmallIntegerField(
        _("remind owners days before the due date"), default=2
    )

    class Meta:
        verbose_name = _("action plan settings")
        verbose_name_plural = _("action plan settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> ActionPlanSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class ActionPlanQuerySet(models.QuerySet["ActionPlan"]):
    def visible_to(self, user) -> ActionPlanQuerySet:  # type: ignore[no-untyped-def]
        """Owners and authors see their items; managers and supervisors those of their teams
        (by the item's team or its owner's); analysts and admins all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        visibility = user.visibility
        if visibility.level == Level.ALL:
            return self.all()
        scope = Q(owner=user) | Q(created_by=user)
        if visibility.team_ids:
            scope |= Q(team_id__in=visibility.team_ids) | Q(owner__team_id__in=visibility.team_ids)
        return self.filter(scope)

    def open(self) -> ActionPlanQuerySet:
        return self.filter(status__in=ActionPlan.OPEN)

    def overdue(self, today: datetime.date) -> ActionPlanQuerySet:
        return self.open().filter(due_on__lt=today)


class ActionPlan(models.Model):
    """行动计划: an item agreed in a review meeting, with an owner, a due date and the metric it
    is meant to move."""

    class Status(models.TextChoices):
        OPEN = "open", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.OPEN, Status.IN_PROGRESS)
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.IN_PROGRESS, Status.DONE, Status.CANCELLED}),
        Status.IN_PROGRESS: frozenset({Status.OPEN, Status.DONE, Status.CANCELLED}),
        Status.DONE: frozenset({Status.IN_PROGRESS}),
        Status.CANCELLED: frozenset({Status.OPEN}),
    }

    title = models.CharField(_("item"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    meeting = models.CharField(
        _("review meeting"),
        max_length=200,
        blank=True,
        help_text=_("e.g. November sales review"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="action_plans",
        verbose_name=_("owner"),
    )
    # The owner's team when the item was agreed: the per-team list keeps it after a transfer.
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="action_plans",
        verbose_name=_("team"),
    )
    due_on = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    metric = models.CharField(_("metric addressed"), max_length=60, blank=True)
    metric_url = models.CharField(_("dashboard view"), max_length=500, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Claims of the reminder sweep: each reminder goes out once per due date.
    reminded_for = models.DateField(null=True, blank=True, editable=False)
    overdue_notified_for = models.DateField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = ActionPlanQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")
        indexes = [
            models.Index(fields=["team", "status", "due_on"]),
            models.Index(fields=["owner", "status", "due_on"]),
            # The reminder sweep scans open items by due date.
            models.Index(
                fields=["due_on"],
                name="action_plan_open_due",
                condition=Q(status__in=["open", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("analytics:action_plan", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.is_open and self.due_on < (today or timezone.localdate())

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    @property
    def metric_label(self) -> str:
        from analytics.dashboards import metric_label

        return metric_label(self.metric)


class ChannelSpend(models.Model):
    """What a source channel cost in a month (exhibition stands, ad spend): the denominator of
    acquisition cost per customer."""

    channel = models.ForeignKey(
        SourceChannel, on_delete=models.CASCADE, related_name="+", verbose_name=_("source channel")
    )
    month = models.DateField(_("month"), help_text=_("Any day of the month; stored as the 1st."))
    amount = models.DecimalField(
        _("spend (¥)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-month", "channel"]
        verbose_name = _("channel spend")
        verbose_name_plural = _("channel spend")
        constraints = [
            models.UniqueConstraint(fields=["channel", "month"], name="channel_spend_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.month:%Y-%m}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.month = self.month.replace(day=1)
        super().save(*args, **kwargs)


class ExportRequest(BaseExportRequest):
    """A request to export a drill-down list holding contact data (导出申请)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="analytics_export_requests",
        verbose_name=_("requested by"),
    )
    dataset = models.CharField(_("list"), max_length=40)

    class Meta(BaseExportRequest.Meta):
        verbose_name = _("analytics export request")
        verbose_name_plural = _("analytics export requests")
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(token__isnull=True) | Q(expires_at__isnull=False),
                name="analytics_export_token_expires",
            )
        ]

    def get_absolute_url(self) -> str:
        return reverse("analytics:exports")

    def download_url(self) -> str:
        return reverse("analytics:export_download", args=[self.token]) if self.token else ""


class ExportLog(models.Model):
    """Every analytics export: who, which table or list with which filter, how many rows, and
    the file's hash, so a leaked file can be traced to its download."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="analytics_exports",
        verbose_name=_("exported by"),
    )
    what = models.CharField(_("table or list"), max_length=80)
    query = models.CharField(_("filter"), max_length=2000, blank=True)
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    row_count = models.PositiveIntegerField(_("rows"))
    contact_data = models.BooleanField(_("with contact data"), default=False)
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
        verbose_name = _("analytics export")
        verbose_name_plural = _("analytics export log")

    def __str__(self) -> str:
        return f"{self.user_id} {self.what} {self.created_at:%Y-%m-%d %H:%M} ({self.row_count})"


# --- Daily rollups ----------------------------------------------------------------------------
#
# The customers dashboard counts a year of follow-up records and tasks; read row by row that is
# half a million index entries a view. On Postgres a statement trigger on each source table keeps
# these daily counts (migration 0002, ``analytics.rollups``) in the same transaction as the
# change, whatever wrote it (a service, an update over many rows, COPY), so they are exact, and
# the dashboard sums a few thousand rows instead. Days are the company's time zone's; changing
# it rebuilds them. Elsewhere (SQLite) the tables stay empty and the dashboard counts the rows.
# The sales dashboard's time in stage reads ``StageDay`` the same way (migration 0003).


class RollupQuerySet(VisibleQuerySet[Any]):
    """The rows of the owners whose records the user sees: the records' own rule."""


class RecordDay(models.Model):
    """Follow-up records of one day by one owner with one method."""

    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    method = models.ForeignKey(
        "followups.FollowUpMethod", models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    records = models.IntegerField(default=0)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "owner", "method"], name="record_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.owner_id} · {self.method_id}: {self.records}"


class TaskDay(models.Model):
    """Follow-up tasks due on one day for one owner, by how they were done (cancelled ones
    aside): by their due time, later, or not yet."""

    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "owner"], name="task_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} · {self.owner_id}: {self.on_time}/{self.late}/{self.missed}"


class StageDay(models.Model):
    """The stays in one stage that ended on one day, of the opportunities one user owns now: how
    many, and their time in the stage summed in microseconds. A change of an opportunity's owner
    moves its stays (a trigger on the opportunities), as the sales figures follow the owner."""

    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    stage = models.ForeignKey(
        "opportunities.Stage", models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    stays = models.IntegerField(default=0)
    micros = models.BigIntegerField(default=0)

    objects = RollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "owner", "stage"], name="stage_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.owner_id} · {self.stage_id}: {self.stays}"
