"""Service tickets (服务工单), their log, messages, collaborators and delay explanations."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.accounts.roles import Level
from crm.core.fields import EncryptedTextField
from crm.core.links import record_url
from crm.core.visibility import InSubquery
from customers.models import Contact, Customer
from tickets.models.config import Priority, QueueAgent, ServiceQueue, TicketCategory

# Ticket.OPEN and Ticket.RUNNING, for the partial indexes (the class is not defined yet where
# they are declared).
OPEN_STATUSES = ("new", "processing", "awaiting")
RUNNING_STATUSES = ("new", "processing")


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


def working_minutes(duration: datetime.timedelta) -> int:
    return int(duration.total_seconds() // 60)


def visible_tickets(user: User, through: str = "") -> Q | None:
    """The condition on tickets (or on a model's ``through`` relation to them) that
    ``visible_to`` applies for an active user; None for those who see every ticket.

    Subqueries as ``= ANY(ARRAY(…))`` and no join on the assignee: each arm of the OR is then an
    index scan (assignee, queue, department, id) combined by a bitmap OR, instead of a read of
    the whole table; through a relation, each row's ticket is tested by its key instead of
    every visible ticket being hashed first.
    """
    visibility = user.visibility
    if visibility.level == Level.ALL:
        return None
    prefix = f"{through}__" if through else ""
    queues = QueueAgent.objects.filter(user=user).values("queue_id")
    collaborations = Collaborator.objects.filter(user=user).values("ticket_id")
    scope = (
        Q(**{f"{prefix}assignee": user})
        | Q(InSubquery(F(f"{prefix}queue_id"), queues))
        | Q(InSubquery(F(f"{through}_id" if through else "pk"), collaborations))
    )
    if visibility.team_ids:
        members = User.objects.filter(team_id__in=visibility.team_ids).values("pk")
        scope |= Q(**{f"{prefix}department_id__in": visibility.team_ids}) | Q(
            InSubquery(F(f"{prefix}assignee_id"), members)
        )
    return scope


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user) -> TicketQuerySet:  # type: ignore[no-untyped-def]
        """Agents: tickets assigned to them, in their queues, or where they collaborate;
        supervisors and department heads: their department's; analysts and admins: all."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        scope = visible_tickets(user)
        return self.all() if scope is None else self.filter(scope)

    def open(self) -> TicketQuerySet:
        """Not closed, written as the statuses it may have, so the (…, status) indexes serve."""
        return self.filter(status__in=Ticket.OPEN)

    def running(self) -> TicketQuerySet:
        """Tickets whose SLA clocks run: not awaiting the customer, not closed."""
        return self.filter(status__in=Ticket.RUNNING)

    def breached(self, now: datetime.datetime) -> TicketQuerySet:
        return self.running().filter(
            Q(resolution_due__lte=now)
            | Q(first_responded_at__isnull=True, first_response_due__lte=now)
        )

    def with_next_due(self) -> TicketQuerySet:
        """Annotates ``next_due``: the earlier running deadline, for sorting queues (the
        ``ticket_open_next_due`` index holds it for open tickets)."""
        return self.annotate(next_due=next_due())


def next_due() -> models.Case:
    """The earlier running deadline: the first response while unanswered, if it comes first."""
    return models.Case(
        models.When(
            first_responded_at__isnull=True,
            first_response_due__lt=models.F("resolution_due"),
            then=models.F("first_response_due"),
        ),
        default=models.F("resolution_due"),
    )


class Ticket(models.Model):
    """服务工单: a consultation, complaint or suggestion from a customer."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        PROCESSING = "processing", _("Processing")
        AWAITING = "awaiting", _("Awaiting customer confirmation")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Service portal")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Online chat")
        VISIT = "visit", _("Visit")

    Priority = Priority

    # The status flow; reopening is closed → processing.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.NEW: frozenset({Status.PROCESSING, Status.CLOSED}),
        Status.PROCESSING: frozenset({Status.AWAITING, Status.CLOSED}),
        Status.AWAITING: frozenset({Status.PROCESSING, Status.CLOSED}),
        Status.CLOSED: frozenset({Status.PROCESSING}),
    }
    RUNNING = (Status.NEW, Status.PROCESSING)  # = RUNNING_STATUSES
    OPEN = (Status.NEW, Status.PROCESSING, Status.AWAITING)  # = OPEN_STATUSES

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category")
    )
    priority = models.CharField(
        _("priority"), max_length=20, choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("contact"),
    )
    contact_name = models.CharField(_("contact name"), max_length=100)
    contact_phone = EncryptedTextField(_("contact phone"), blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    queue = models.ForeignKey(
        ServiceQueue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("queue"),
    )
    department = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("department"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # SLA bookkeeping: deadlines on the business calendar, extended by the time spent paused.
    first_response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_total = models.DurationField(_("working time paused"), default=datetime.timedelta)
    # Working minutes on the business calendar, kept by the services when the ticket is first
    # answered and when it is resolved, so that reports take medians in the database.
    response_minutes = models.PositiveIntegerField(
        _("first response (working minutes)"), null=True, blank=True, editable=False
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (working minutes)"), null=True, blank=True, editable=False
    )
    # Claims of the escalation sweep: set once, so a warning or breach is announced once.
    response_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The date promised by the latest delay explanation (延迟说明).
    explained_until = models.DateField(_("delayed until"), null=True, blank=True)
    # The status link's secret: long and random, never derived from the number or the id.
    public_token = models.CharField(
        max_length=64, unique=True, default=new_public_token, editable=False
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "resolution_due"], name="ticket_status_res_due"),
            models.Index(fields=["status", "first_response_due"], name="ticket_status_resp_due"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["queue", "status"], name="ticket_queue_status"),
            models.Index(fields=["department", "status"], name="ticket_department_status"),
            models.Index(fields=["customer", "created_at"], name="ticket_customer_created"),
            # Dashboards: the tickets created, or closed, in a period, and the open ones by age.
            # Each covers what its figures read (the breakdowns, the times, the breaches, and
            # the visibility rule's assignee, queue, department and id), so that Postgres
            # answers from the index alone instead of fetching a table row per ticket.
            models.Index(
                fields=["created_at"],
                include=[
                    "priority",
                    "category",
                    "department",
                    "assignee",
                    "queue",
                    "id",
                    "response_minutes",
                    "resolution_minutes",
                    "response_breached_at",
                    "resolution_breached_at",
                ],
                name="ticket_created",
            ),
            models.Index(
                fields=["closed_at"],
                include=["department", "assignee", "queue", "id"],
                name="ticket_closed",
                condition=Q(closed_at__isnull=False),
            ),
            models.Index(
                fields=["created_at"],
                include=["priority", "department", "assignee", "queue", "id"],
                name="ticket_open_created",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The queue's search by number (number__iexact compiles to UPPER); subject and
            # contact name have trigram and character indexes on Postgres (migrations 0004 and
            # 0007, crm.core.search).
            models.Index(Upper("number"), name="ticket_number_upper"),
            # The queues sort open tickets by their next deadline: read in order, no sort of
            # every open ticket.
            models.Index(
                next_due(),
                F("id"),
                name="ticket_open_next_due",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The queue tabs' counts: every column they test, so the count of the open tickets
            # reads this small index alone (an index-only scan), never the table.
            models.Index(
                fields=[
                    "department",
                    "assignee",
                    "queue",
                    "status",
                    "resolution_due",
                    "first_response_due",
                    "first_responded_at",
                    "id",
                ],
                name="ticket_open_counts",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The SLA sweep's candidates: running tickets whose deadline has not been announced
            # as breached, by that deadline. A few thousand at most, however many tickets are
            # open or long past their deadline (announced), which a read by status and due
            # would step over (200,000 open: 10,000 pages for 900 due).
            models.Index(
                fields=["resolution_due", "id"],
                name="ticket_unbreached_resolution",
                condition=Q(status__in=RUNNING_STATUSES, resolution_breached_at__isnull=True),
            ),
            models.Index(
                fields=["first_response_due", "id"],
                name="ticket_unbreached_response",
                condition=Q(
                    status__in=RUNNING_STATUSES,
                    first_responded_at__isnull=True,
                    response_breached_at__isnull=True,
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return record_url("tickets:detail", self.pk)

    @staticmethod
    def subject_from(description: str) -> str:
        first_line = next((line for line in description.splitlines() if line.strip()), "")
        return Truncator(first_line.strip()).chars(80)

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    def next_due(self) -> datetime.datetime:
        if self.first_responded_at is None and self.first_response_due < self.resolution_due:
            return self.first_response_due
        return self.resolution_due

    def mark_first_response(self, now: datetime.datetime) -> list[str]:
        """Records the first answer and its working time; the fields changed, for saving."""
        from tickets import calendar

        if self.first_responded_at is not None:
            return []
        self.first_responded_at = now
        self.response_minutes = working_minutes(calendar.working_time_between(self.created_at, now))
        return ["first_responded_at", "response_minutes"]

    def mark_resolution(self, now: datetime.datetime) -> list[str]:
        """Records the working time the clock ran until the ticket was resolved: working time
        since creation less the time spent paused (awaiting the customer) before ``now``."""
        from tickets import calendar

        running = calendar.working_time_between(self.created_at, now) - self.paused_total
        self.resolution_minutes = working_minutes(max(running, datetime.timedelta()))
        return ["resolution_minutes"]

    def is_breached(self, now: datetime.datetime) -> bool:
        return self.is_running and self.next_due() <= now

    def overdue_by(self, now: datetime.datetime) -> datetime.timedelta:
        """How long the ticket is past its resolution deadline, or past the end of the date a
        delay explanation promised; zero when on time or closed."""
        if not self.is_open:
            return datetime.timedelta()
        due = self.resolution_due
        if self.explained_until is not None:
            promised = datetime.datetime.combine(
                self.explained_until + datetime.timedelta(days=1), datetime.time()
            )
            due = max(due, timezone.make_aware(promised))
        return max(now - due, datetime.timedelta())


class TicketEvent(models.Model):
    """The ticket's log (工单日志): each step with who and when; analytics reads these rows."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        PRIORITY = "priority", _("Priority changed")
        COLLABORATOR = "collaborator", _("Collaborator")
        DELAY = "delay", _("Delay explanation")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breached")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=Ticket.Status.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=Ticket.Status.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.get_kind_display()}"


class TicketMessageQuerySet(models.QuerySet["TicketMessage"]):
    def public(self) -> TicketMessageQuerySet:
        """What the customer sees: public replies and their own messages, never notes."""
        return self.exclude(kind=TicketMessage.Kind.NOTE)


class TicketMessage(models.Model):
    """A message on a ticket: an internal note, a public reply, or the customer's own words."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Internal note")
        REPLY = "reply", _("Public reply")
        CUSTOMER = "customer", _("Customer message")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    author_name = models.CharField(_("author name"), max_length=100, blank=True)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True, editable=False)

    objects = TicketMessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_ticket_at")]

    def __str__(self) -> str:
        return Truncator(self.body).chars(60)

    @property
    def is_public(self) -> bool:
        return self.kind != self.Kind.NOTE

    @property
    def sender(self) -> str:
        if self.author_id and self.author:
            return self.author.display_name
        return self.author_name


class Collaborator(models.Model):
    """协作人: someone from another department with their own task and deadline on a ticket."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="collaborators", verbose_name=_("ticket")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="ticket_collaborations",
        verbose_name=_("collaborator"),
    )
    task = models.CharField(_("task"), max_length=300)
    due_at = models.DateTimeField(_("deadline"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("collaborator")
        verbose_name_plural = _("collaborators")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="collaborator_unique")
        ]
        indexes = [models.Index(fields=["user", "done_at"], name="collaborator_user_done")]

    def __str__(self) -> str:
        return f"{self.ticket.number} · {self.user}"


class DelayExplanation(models.Model):
    """延迟说明: why a ticket is late and the date its owner now commits to."""

    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        related_name="delay_explanations",
        verbose_name=_("ticket"),
    )
    reason = models.TextField(_("reason"))
    new_date = models.DateField(_("new date"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("filed at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delay explanation")
        verbose_name_plural = _("delay explanations")

    def __str__(self) -> str:
        return f"{self.ticket.number} → {self.new_date}"
