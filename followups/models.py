"""Follow-up plans, tasks, records and reminders (SPEC §2)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Count, Q, Value, When, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.core.links import record_url
from crm.core.visibility import VisibleQuerySet
from customers.models import Customer

if TYPE_CHECKING:
    from crm.accounts.models import User


class FollowUpMethod(models.Model):
    """跟进方式 (phone, email, visit, meeting, online meeting): a dictionary edited in admin."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("follow-up method")
        verbose_name_plural = _("follow-up methods")

    def __str__(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class TaskTemplate(models.Model):
    """话术模板: the content a task starts with (first call, product introduction …)."""

    name = models.CharField(_("name"), max_length=100)
    method = models.ForeignKey(
        FollowUpMethod, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("method")
    )
    content = models.TextField(_("content"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("task template")
        verbose_name_plural = _("task templates")

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    INITIAL_CONTACT = "initial_contact", _("Initial contact")
    NEEDS_CONFIRMATION = "needs_confirmation", _("Needs confirmation")
    PROPOSAL_NEGOTIATION = "proposal_negotiation", _("Proposal negotiation")


class FollowUpPlanQuerySet(VisibleQuerySet["FollowUpPlan"]):
    def active(self) -> FollowUpPlanQuerySet:
        return self.filter(is_active=True)


class FollowUpPlan(models.Model):
    """跟进计划 on a customer: a cadence that generates tasks."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", _("Once a week")
        BIWEEKLY = "biweekly", _("Once every two weeks")
        MONTHLY = "monthly", _("Once a month")
        CUSTOM = "custom", _("Every N days")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="follow_up_plans",
        verbose_name=_("customer"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="follow_up_plans",
        verbose_name=_("owner"),
    )
    stage = models.CharField(_("stage"), max_length=30, choices=Stage.choices)
    cadence = models.CharField(_("cadence"), max_length=20, choices=Cadence.choices)
    interval_days = models.PositiveSmallIntegerField(
        _("every N days"), null=True, blank=True, help_text=_("For a custom cadence.")
    )
    content_points = models.TextField(_("content points"), blank=True)
    method = models.ForeignKey(
        FollowUpMethod, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("method")
    )
    template = models.ForeignKey(
        TaskTemplate, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("script")
    )
    reminder_minutes = models.PositiveIntegerField(
        _("remind before (minutes)"), default=60, help_text=_("e.g. 60 for one hour before")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    time_of_day = models.TimeField(_("at"), default=datetime.time(10, 0))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = FollowUpPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        constraints = [
            models.CheckConstraint(
                condition=~Q(cadence="custom") | Q(interval_days__gte=1),
                name="plan_custom_cadence_has_interval",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer.name} · {self.get_stage_display()}"

    @property
    def step(self) -> datetime.timedelta | None:
        """The gap between tasks; a month is approximated by 30 days."""
        days = {
            self.Cadence.WEEKLY: 7,
            self.Cadence.BIWEEKLY: 14,
            self.Cadence.MONTHLY: 30,
        }.get(self.Cadence(self.cadence), self.interval_days)
        return datetime.timedelta(days=days) if days else None

    def remind_at(self, due: datetime.datetime) -> datetime.datetime:
        """When the owner is reminded of the plan's task due at ``due``."""
        return due - datetime.timedelta(minutes=self.reminder_minutes)


class FollowUpTaskQuerySet(VisibleQuerySet["FollowUpTask"]):
    def pending(self) -> FollowUpTaskQuerySet:
        return self.filter(status=FollowUpTask.Status.PENDING)

    def overdue(self, now: datetime.datetime) -> FollowUpTaskQuerySet:
        return self.pending().filter(due_at__lt=now)

    def due_between(self, start: datetime.datetime, end: datetime.datetime) -> FollowUpTaskQuerySet:
        return self.pending().filter(due_at__gte=start, due_at__lt=end)

    def on_calendar(self, start: datetime.datetime, end: datetime.datetime) -> FollowUpTaskQuerySet:
        """Pending and done tasks due in ``[start, end)``: what the calendar shows."""
        return self.exclude(status=FollowUpTask.Status.CANCELLED).filter(
            due_at__gte=start, due_at__lt=end
        )

    def first_of_each_day(
        self, tz: datetime.tzinfo, *, limit: int, first_owner: User
    ) -> tuple[dict[datetime.date, int], list[int]]:
        """How many tasks each local day has, and the ids of its first ``limit``:
        ``first_owner``'s own before the others' (those are the ones they can drag), then by due
        time. One query whatever the number of tasks: windows over each day count and rank its
        tasks, and only the first few rows of a day leave the database."""
        day = TruncDate("due_at", tzinfo=tz)
        rows = (
            self.annotate(
                day=day,
                day_total=Window(Count("id"), partition_by=day),
                rank=Window(
                    RowNumber(),
                    partition_by=day,
                    order_by=[
                        Case(When(owner=first_owner, then=Value(0)), default=Value(1)),
                        "due_at",
                        "id",
                    ],
                ),
            )
            .filter(rank__lte=limit)
            .order_by()
            .values_list("pk", "day", "day_total")
        )
        counts: dict[datetime.date, int] = {}
        ids = []
        for pk, local_day, total in rows:
            counts[local_day] = total
            ids.append(pk)
        return counts, ids


class FollowUpTask(models.Model):
    """跟进任务: pending until done or cancelled; overdue is derived from the due time."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        PLAN = "plan", _("From a plan")
        MANUAL = "manual", _("Added by hand")
        COMMITMENT = "commitment", _("Commitment from a record")
        MAINTENANCE = "maintenance", _("Relationship maintenance")
        WELCOME = "welcome", _("Welcome letter")
        FIRST_USE = "first_use", _("First-use visit")
        RULE = "rule", _("From an automation rule")

    TRANSITIONS = {Status.PENDING: {Status.DONE, Status.CANCELLED}}

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="follow_up_tasks",
        verbose_name=_("customer"),
    )
    plan = models.ForeignKey(
        FollowUpPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("plan"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="follow_up_tasks",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MANUAL)
    title = models.CharField(_("title"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    method = models.ForeignKey(
        FollowUpMethod, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("method")
    )
    content = models.TextField(_("content"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # When the "before the task" reminder is due; a partial index serves the sweep.
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = FollowUpTaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [
            models.Index(fields=["owner", "status", "due_at"]),
            # The calendar: the owners' tasks of any status in a date range, counted and
            # ranked per day from the index alone (status and id included).
            models.Index(
                fields=["owner", "due_at"], name="task_owner_due", include=["status", "id"]
            ),
            # Dashboards: how timely the tasks that fell due in a period were done.
            models.Index(
                fields=["due_at"],
                include=["owner", "status", "completed_at"],
                name="task_due_cover",
            ),
            # Pending tasks in due order for a team (the manager's view): without it the planner
            # walks the cover index above through every done task since the beginning.
            models.Index(
                fields=["due_at"],
                include=["owner"],
                name="task_pending_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["customer", "status", "due_at"]),
            models.Index(
                fields=["remind_at"],
                name="task_reminder_due",
                condition=Q(status="pending", reminded_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="task_overdue_pending",
                condition=Q(status="pending", escalated_at__isnull=True),
            ),
        ]
        constraints = [
            # Regenerating a plan never creates a second task at the same time.
            models.UniqueConstraint(
                fields=["plan", "due_at"],
                condition=Q(plan__isnull=False),
                name="task_once_per_plan_slot",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return record_url("followups:task", self.pk)

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return self.status == self.Status.PENDING and self.due_at < (now or timezone.now())


class FollowUpRecordQuerySet(VisibleQuerySet["FollowUpRecord"]):
    pass


class FollowUpRecord(models.Model):
    """跟进记录: what happened in one contact with the customer."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="follow_up_records",
        verbose_name=_("customer"),
    )
    task = models.OneToOneField(
        FollowUpTask,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="record",
        verbose_name=_("task"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="follow_up_records",
        verbose_name=_("recorded by"),
    )
    occurred_at = models.DateTimeField(_("time"))
    method = models.ForeignKey(FollowUpMethod, on_delete=models.PROTECT, verbose_name=_("method"))
    our_participants = models.CharField(_("our participants"), max_length=300, blank=True)
    their_participants = models.CharField(_("their participants"), max_length=300, blank=True)
    topic = models.CharField(_("topic"), max_length=200)
    summary = models.TextField(_("summary"))
    feedback = models.TextField(_("customer feedback"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300)
    next_step_at = models.DateTimeField(_("next step due"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = FollowUpRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("follow-up record")
        verbose_name_plural = _("follow-up records")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["owner", "-occurred_at"]),
            # Dashboards count a year of records by month and method from the index alone.
            models.Index(
                fields=["occurred_at"], include=["method", "owner"], name="record_occurred_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer.name} · {self.topic}"


class Commitment(models.Model):
    """A promise or to-do from a record, with its own due date; it becomes a task."""

    record = models.ForeignKey(FollowUpRecord, on_delete=models.CASCADE, related_name="commitments")
    description = models.CharField(_("commitment or to-do"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    task = models.OneToOneField(
        FollowUpTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return self.description


class TaskTransfer(models.Model):
    """转交: a task handed to a colleague, by whom and why."""

    task = models.ForeignKey(FollowUpTask, on_delete=models.CASCADE, related_name="transfers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("task transfer")
        verbose_name_plural = _("task transfers")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_user_id} → {self.to_user_id}"


class Reminder(models.Model):
    """A reminder sent: one per kind, target, occasion and recipient, so sweeps run twice (or
    on two workers) never send twice, and a missed run sends late rather than never."""

    class Kind(models.TextChoices):
        BEFORE_TASK = "before_task", _("Before a task")
        OVERDUE = "overdue", _("Task overdue")
        OVERDUE_ESCALATION = "overdue_escalation", _("Task overdue: to the manager")
        NO_CONTACT = "no_contact", _("No contact after assignment")
        BIRTHDAY = "birthday", _("Contact's birthday")
        CONTRACT_EXPIRY = "contract_expiry", _("Contract expiry")
        MAINTENANCE = "maintenance", _("Relationship maintenance")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField()
    occasion = models.CharField(max_length=40, help_text="e.g. the date or due time it is about")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target_type", "target_id", "occasion", "recipient"],
                name="reminder_once_per_occasion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id} {self.occasion}"


class ReminderPreference(models.Model):
    """Per user and kind of reminder: in the inbox, by email, or both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preferences"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Reminder.Kind.choices)
    in_app = models.BooleanField(_("in the inbox"), default=True)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="reminder_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
