"""Reminder sweeps (SPEC §2, issue 5 "Reminders"): before a task, overdue and its escalation,
no contact after assignment, birthdays, contract expiry, relationship maintenance by value tier,
and the welcome tasks of a newly won customer.

Every sweep takes ``now`` and selects everything due up to it, not just what fell due in the last
minute, so a missed run catches up on the next one. Each target is claimed twice over: the
task's own column where there is one (``reminded_at``, ``overdue_notified_at``,
``escalated_at``: the rows still unset locked, then set), and always a ``Reminder`` row, unique
per kind, target, occasion and recipient, inserted with ``ON CONFLICT DO NOTHING``: a row not
inserted was sent already by another run (or worker). Running a sweep twice, or on two workers
at once, sends nothing twice. The due targets are handled in chunks (``crm.core.sweeps``): a
chunk's claims, reminder rows and notifications are a few statements in one transaction, so a
failure rolls back its claims too and the next run tries again (a failed chunk is retried target
by target).
"""

from __future__ import annotations

import calendar
import datetime
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.core import bulk, events, sweeps
from crm.core.models import DomainEvent
from crm.notifications.services import Message, notify_many
from customers.events import CUSTOMER_CHANGED
from customers.models import Contact, Customer, Tier
from customers.tiers import register_activity_source
from followups.models import (
    FollowUpRecord,
    FollowUpTask,
    Reminder,
    ReminderPreference,
)

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
BATCH = 500
NO_CONTACT_AFTER = datetime.timedelta(days=3)
NO_CONTACT_LOOK_BACK = datetime.timedelta(days=30)
BIRTHDAY_DAYS_AHEAD = 3
CONTRACT_DAYS_AHEAD = 30
WELCOME_WITHIN = datetime.timedelta(days=3)
FIRST_USE_WITHIN = datetime.timedelta(days=7)
MAINTENANCE_DUE_WITHIN = datetime.timedelta(days=7)
REMIND_BEFORE = datetime.timedelta(hours=1)

VERBS = {kind: f"followup_{kind}" for kind in Kind.values}


# --- delivery -------------------------------------------------------------------------------------


def channels(user: User, kind: str) -> tuple[bool, bool]:
    """(inbox, email) for a user and kind of reminder; both unless the user chose otherwise."""
    preference = ReminderPreference.objects.filter(user=user, kind=kind).first()
    if preference is None:
        return True, True
    return preference.in_app, preference.email


def _channels_of(dues: list[Due]) -> dict[tuple[int, str], tuple[bool, bool]]:
    """``channels()`` of every recipient and kind in ``dues``, in one query; a pair not in the
    result has both."""
    rows = ReminderPreference.objects.filter(
        user_id__in={due.recipient_pk for due in dues}, kind__in={due.kind for due in dues}
    ).values_list("user_id", "kind", "in_app", "email")
    return {(user_id, kind): (in_app, email) for user_id, kind, in_app, email in rows}


def _url(record: models.Model) -> str:
    if isinstance(record, FollowUpTask):
        try:
            return record.get_absolute_url()
        except NoReverseMatch:  # the task page is not routed (yet): the customer's page will do
            pass
    customer = record if isinstance(record, Customer) else getattr(record, "customer", None)
    return customer.get_absolute_url() if customer is not None else ""


@dataclass(frozen=True)
class Due:
    """One reminder to one recipient: the ``Reminder`` row's key, and what the message says.
    ``about`` is what the notification links to when that is not the target (the task a
    maintenance reminder created)."""

    kind: str
    target: models.Model
    occasion: str
    recipient: User
    context: dict[str, Any]
    about: models.Model | None = None

    @property
    def recipient_pk(self) -> int:
        return self.recipient.pk

    def key(self) -> tuple[str, int, int, str, int]:
        target_type = ContentType.objects.get_for_model(self.target)
        return (self.kind, target_type.pk, self.target.pk, self.occasion, self.recipient.pk)


def due_to(
    recipients: Iterable[User | None],
    *,
    kind: str,
    target: models.Model,
    occasion: str,
    context: dict[str, Any],
) -> list[Due]:
    """One ``Due`` per active recipient, once each (callers pass "the owner and their head"
    without checks)."""
    dues = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        dues.append(Due(kind, target, occasion, user, context))
    return dues


RECORD = """
    INSERT INTO {table} (kind, target_type_id, target_id, occasion, recipient_id, sent_at)
    VALUES {rows}
    ON CONFLICT DO NOTHING
    RETURNING kind, target_type_id, target_id, occasion, recipient_id
"""


def _record(dues: list[Due], *, now: datetime.datetime) -> list[Due]:
    """Records the reminders in one statement and returns those it recorded: one already there
    (sent by an earlier run) is skipped, and one a concurrent run is recording waits for that
    run's commit and is skipped then (Postgres and SQLite alike). Runs in the caller's
    transaction, so that a failed notification undoes it."""
    by_key = {due.key(): due for due in dues}
    if not by_key:
        return []
    sent_at = Reminder._meta.get_field("sent_at").get_db_prep_value(now, connection)
    params: list[Any] = []
    for key in by_key:
        params.extend([*key, sent_at])
    sql = RECORD.format(
        table=connection.ops.quote_name(Reminder._meta.db_table),
        rows=", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(by_key)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        recorded = {tuple(row) for row in cursor.fetchall()}
    return [due for key, due in by_key.items() if key in recorded]


def _announce(dues: list[Due], *, now: datetime.datetime) -> None:
    """The notifications of recorded reminders, in one go, by each recipient's choice of
    channels."""
    chosen = _channels_of(dues)
    messages = []
    for due in dues:
        in_app, email = chosen.get((due.recipient_pk, due.kind), (True, True))
        if not (in_app or email):
            continue
        about = due.about or due.target
        messages.append(
            Message(
                recipients=[due.recipient],
                verb=VERBS[due.kind],
                target=about,
                url=_url(about),
                context=due.context,
                email=email,
                # notify() always writes the inbox row (the email is sent from it); filed as
                # read, it neither counts nor nags in the inbox.
                read_at=None if in_app else now,
            )
        )
    notify_many(messages)


def _send(dues: list[Due], *, now: datetime.datetime) -> int:
    """Sends each reminder its recipient has not had yet; returns how many were sent."""
    recorded = _record(dues, now=now)
    _announce(recorded, now=now)
    return len(recorded)


def heads_above() -> Callable[[User | None], User | None]:
    """``head_above(user)``: the head of the user's team, or of the nearest team above with an
    active head other than them. The team tree and its heads are read once, here."""
    tree = Team.objects.tree()
    heads = {
        user.pk: user
        for user in User.objects.filter(pk__in={pk for pk in tree.head.values() if pk})
    }

    def head_above(user: User | None) -> User | None:
        if user is None:
            return None
        team_id = user.team_id
        seen: set[int] = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            head = heads.get(tree.head.get(team_id) or 0)
            if head is not None and head.pk != user.pk and head.is_active:
                return head
            team_id = tree.parent.get(team_id)
        return None

    return head_above


def _claim(tasks: list[FollowUpTask], column: str, now: datetime.datetime) -> list[FollowUpTask]:
    """The tasks still pending with ``column`` unset, claimed (``sweeps.claim``)."""
    pending = FollowUpTask.objects.filter(status=FollowUpTask.Status.PENDING)
    locked = sweeps.claim(pending, [task.pk for task in tasks], column, now)
    # The page's objects stay as read: a chunk that fails is retried task by task from them.
    return [task for task in tasks if task.pk in locked]


def _batches(queryset: models.QuerySet[Any]) -> Iterator[list[Any]]:
    """Keyset pages by primary key: each page is one bounded query, however much is due."""
    last_pk = 0
    while True:
        page = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not page:
            return
        yield page
        if len(page) < BATCH:
            return
        last_pk = page[-1].pk


def _moment(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat()


# --- 1. before each task --------------------------------------------------------------------------


def remind_before_tasks(*, now: datetime.datetime) -> int:
    """Reminds owners of pending tasks whose ``remind_at`` has come (partial index
    ``task_reminder_due``). Returns the number of reminders sent."""
    due = FollowUpTask.objects.filter(
        status=FollowUpTask.Status.PENDING, reminded_at__isnull=True, remind_at__lte=now
    ).select_related("owner", "customer")
    return sum(sweeps.in_chunks(page, partial(_before_tasks, now=now)) for page in _batches(due))


def _before_tasks(tasks: list[FollowUpTask], *, now: datetime.datetime) -> int:
    dues = []
    for task in _claim(tasks, "reminded_at", now):
        dues += due_to(
            [task.owner],
            kind=Kind.BEFORE_TASK,
            target=task,
            occasion=_moment(task.due_at),
            context={"task": task, "customer": task.customer},
        )
    return _send(dues, now=now)


# --- 2. overdue, then escalated -------------------------------------------------------------------


def escalate_after() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "FOLLOWUP_ESCALATE_AFTER_HOURS", 24))


def remind_overdue_tasks(*, now: datetime.datetime) -> int:
    """Tells the owner once that a pending task is overdue; once it has been overdue for
    ``FOLLOWUP_ESCALATE_AFTER_HOURS`` (24), tells the owner's team head (or the next head up)
    once and sets ``escalated_at``, which takes the task out of the scan (partial index
    ``task_overdue_pending``). A task whose owner has no head above is marked escalated too."""
    escalate_before = now - escalate_after()
    due = (
        FollowUpTask.objects.filter(
            status=FollowUpTask.Status.PENDING, escalated_at__isnull=True, due_at__lt=now
        )
        .filter(Q(overdue_notified_at__isnull=True) | Q(due_at__lte=escalate_before))
        .select_related("owner", "customer")
        # What the reminders read: thousands of whole tasks and customers (each address
        # decrypted) cost more than sending.
        .only("title", "due_at", "status", "overdue_notified_at", "owner", "customer__name")
    )
    head_above = heads_above()
    overdue = partial(_overdue, now=now, escalate_before=escalate_before, head_above=head_above)
    return sum(sweeps.in_chunks(page, overdue) for page in _batches(due))


def _overdue(
    tasks: list[FollowUpTask],
    *,
    now: datetime.datetime,
    escalate_before: datetime.datetime,
    head_above: Callable[[User | None], User | None],
) -> int:
    dues = []
    for task in _claim(
        [t for t in tasks if t.overdue_notified_at is None], "overdue_notified_at", now
    ):
        dues += due_to(
            [task.owner],
            kind=Kind.OVERDUE,
            target=task,
            occasion=_moment(task.due_at),
            context=_overdue_context(task),
        )
    for task in _claim([t for t in tasks if t.due_at <= escalate_before], "escalated_at", now):
        dues += due_to(
            [head_above(task.owner)],
            kind=Kind.OVERDUE_ESCALATION,
            target=task,
            occasion=_moment(task.due_at),
            context=_overdue_context(task),
        )
    return _send(dues, now=now)


def _overdue_context(task: FollowUpTask) -> dict[str, Any]:
    return {"task": task, "customer": task.customer, "owner": task.owner}


# --- 3. no contact after assignment ---------------------------------------------------------------


def warn_no_contact(*, now: datetime.datetime) -> int:
    """Warns the owner and their manager about customers assigned at least three days ago
    (looking back 30 days) with no follow-up record since the assignment."""
    customer_type = ContentType.objects.get_for_model(Customer)
    contacted = FollowUpRecord.objects.filter(
        customer=OuterRef("pk"), occurred_at__gte=OuterRef("assigned_at")
    )
    # Keeps warned customers out of the pages (the unique row would stop a resend anyway).
    warned = Reminder.objects.filter(
        kind=Kind.NO_CONTACT,
        target_type=customer_type,
        target_id=OuterRef("pk"),
        recipient=OuterRef("owner"),
        sent_at__gte=OuterRef("assigned_at"),
    )
    due = (
        Customer.objects.filter(
            owner__isnull=False,
            assigned_at__gte=now - NO_CONTACT_LOOK_BACK,
            assigned_at__lte=now - NO_CONTACT_AFTER,
        )
        .exclude(Exists(contacted))
        .exclude(Exists(warned))
        .select_related("owner")
    )
    warn = partial(_no_contact, now=now, head_above=heads_above())
    return sum(sweeps.in_chunks(page, warn) for page in _batches(due))


def _no_contact(
    customers: list[Customer],
    *,
    now: datetime.datetime,
    head_above: Callable[[User | None], User | None],
) -> int:
    dues = []
    for customer in customers:
        assert customer.assigned_at is not None  # noqa: S101 - filtered above
        dues += due_to(
            [customer.owner, head_above(customer.owner)],
            kind=Kind.NO_CONTACT,
            target=customer,
            occasion=_moment(customer.assigned_at),
            context={"customer": customer, "owner": customer.owner},
        )
    return _send(dues, now=now)


# --- 4. birthdays and contract expiry -------------------------------------------------------------


def _birthday_in(
    birthday: datetime.date, start: datetime.date, end: datetime.date
) -> datetime.date:
    """The day the birthday is celebrated between start and end (29 February on the 28th in
    common years)."""
    for year in (start.year, end.year):
        day = birthday.day
        if birthday.month == 2 and day == 29 and not calendar.isleap(year):
            day = 28
        candidate = datetime.date(year, birthday.month, day)
        if start <= candidate <= end:
            return candidate
    raise ValueError("The birthday does not fall in the window.")


def remind_birthdays(*, now: datetime.datetime) -> int:
    """Reminds the customer's owner of a contact's birthday up to three days ahead; a missed run
    still reminds before (or on) the day."""
    today = timezone.localdate(now)
    end = today + datetime.timedelta(days=BIRTHDAY_DAYS_AHEAD)
    days = Q()
    for offset in range(BIRTHDAY_DAYS_AHEAD + 1):
        day = today + datetime.timedelta(days=offset)
        days |= Q(birthday__month=day.month, birthday__day=day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            days |= Q(birthday__month=2, birthday__day=29)
    # A birthday reminder sent within the window's span was for this year's birthday: those
    # contacts stay out of the pages (the unique row would stop a resend anyway).
    sent_lately = Reminder.objects.filter(
        kind=Kind.BIRTHDAY,
        target_type=ContentType.objects.get_for_model(Contact),
        target_id=OuterRef("pk"),
        sent_at__gt=now - datetime.timedelta(days=BIRTHDAY_DAYS_AHEAD + 1),
    )
    due = (
        Contact.objects.filter(days, customer__owner__isnull=False)
        .exclude(Exists(sent_lately))
        .select_related("customer__owner")
    )
    remind = partial(_birthdays, now=now, today=today, end=end)
    return sum(sweeps.in_chunks(page, remind) for page in _batches(due))


def _birthdays(
    contacts: list[Contact], *, now: datetime.datetime, today: datetime.date, end: datetime.date
) -> int:
    dues = []
    for contact in contacts:
        assert contact.birthday is not None  # noqa: S101 - filtered above
        on = _birthday_in(contact.birthday, today, end)
        dues += due_to(
            [contact.customer.owner],
            kind=Kind.BIRTHDAY,
            target=contact,
            occasion=on.isoformat(),
            context={
                "contact": contact,
                "customer": contact.customer,
                "on": on,
                "days_left": (on - today).days,
            },
        )
    return _send(dues, now=now)


ContractSource = Callable[
    [datetime.date, datetime.date], Iterable[tuple[int, int, datetime.date, str]]
]
_contract_sources: list[ContractSource] = []


def register_contract_source(source: ContractSource) -> ContractSource:
    """Contracts are the opportunities app's; it registers ``fn(start_date, end_date)`` yielding
    ``(customer_id, contract_id, end_date, label)`` for contracts ending in that range
    (inclusive); the label (the order number) is what the reminder names."""
    if source not in _contract_sources:
        _contract_sources.append(source)
    return source


def unregister_contract_source(source: ContractSource) -> None:
    if source in _contract_sources:
        _contract_sources.remove(source)


def remind_contract_expiry(*, now: datetime.datetime) -> int:
    """Reminds the customer's owner of a contract ending within 30 days, once per contract and
    end date; does nothing until an app registers a contract source."""
    today = timezone.localdate(now)
    end = today + datetime.timedelta(days=CONTRACT_DAYS_AHEAD)
    expiring = [row for source in _contract_sources for row in source(today, end)]
    if not expiring:
        return 0
    customers = Customer.objects.filter(
        pk__in={row[0] for row in expiring}, owner__isnull=False
    ).select_related("owner")
    by_id = {customer.pk: customer for customer in customers}
    dues = []
    for customer_id, contract_id, ends_on, label in expiring:
        customer = by_id.get(customer_id)
        if customer is None:
            continue
        dues += due_to(
            [customer.owner],
            kind=Kind.CONTRACT_EXPIRY,
            target=customer,
            occasion=f"{contract_id}:{ends_on.isoformat()}",
            context={
                "customer": customer,
                "contract": label,
                "ends_on": ends_on,
                "days_left": (ends_on - today).days,
            },
        )
    return sweeps.in_chunks(dues, partial(_send, now=now))


# --- 5. relationship maintenance by value tier ----------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    code: str
    tier: str
    days: int
    title: str | Promise
    # A routine contact: skipped while the customer has a pending task or a recent record. The
    # quarterly custom service of high-value customers is due whatever other contact there was.
    routine: bool = True


CADENCES = (
    Cadence("deep_contact", Tier.HIGH, 30, _("Monthly in-depth contact")),
    Cadence("custom_service", Tier.HIGH, 91, _("Quarterly custom service"), routine=False),
    Cadence("visit", Tier.MEDIUM, 91, _("Quarterly visit")),
    Cadence("check_in", Tier.LOW, 182, _("Half-yearly contact")),
)


def create_maintenance_tasks(*, now: datetime.datetime) -> int:
    """Creates a maintenance task for each won, owned customer whose value tier's cadence has
    come round: none in the window yet (a ``Reminder`` of kind MAINTENANCE per cadence is the
    ledger) and, for routine contact, no pending task and no record within the window. The owner
    is told. Returns the number of tasks created; a second run creates none."""
    customer_type = ContentType.objects.get_for_model(Customer)
    created = 0
    for cadence in CADENCES:
        since = now - datetime.timedelta(days=cadence.days)
        done = Reminder.objects.filter(
            kind=Kind.MAINTENANCE,
            target_type=customer_type,
            target_id=OuterRef("pk"),
            occasion__startswith=f"{cadence.code}:",
            sent_at__gte=since,
        )
        due = Customer.objects.filter(
            type=Customer.Type.WON,
            value_tier=cadence.tier,
            owner__isnull=False,
            created_at__lte=since,
        ).exclude(Exists(done))
        if cadence.routine:
            due = due.exclude(
                Exists(
                    FollowUpTask.objects.filter(
                        customer=OuterRef("pk"), status=FollowUpTask.Status.PENDING
                    )
                )
            ).exclude(
                Exists(
                    FollowUpRecord.objects.filter(customer=OuterRef("pk"), occurred_at__gte=since)
                )
            )
        create = partial(_maintenance_tasks, cadence=cadence, now=now)
        created += sum(
            sweeps.in_chunks(page, create)
            # The reminder's text names the customer and their tier; whole rows would each
            # have their address decrypted.
            for page in _batches(due.select_related("owner").only("name", "value_tier", "owner"))
        )
    return created


def _maintenance_tasks(
    customers: list[Customer], *, cadence: Cadence, now: datetime.datetime
) -> int:
    occasion = f"{cadence.code}:{timezone.localdate(now).isoformat()}"
    dues = []
    for customer in customers:
        dues += due_to(
            [customer.owner],
            kind=Kind.MAINTENANCE,
            target=customer,
            occasion=occasion,
            context={"customer": customer},
        )
    # The reminder row is the claim: a task only for a customer this run recorded.
    recorded = _record(dues, now=now)
    titles: dict[str, str] = {}
    due_at = now + MAINTENANCE_DUE_WITHIN
    tasks = []
    for due in recorded:
        language = due.recipient.language or settings.LANGUAGE_CODE
        if language not in titles:
            with translation.override(language):
                titles[language] = str(cadence.title)
        tasks.append(
            FollowUpTask(
                customer=due.context["customer"],
                owner=due.recipient,
                kind=FollowUpTask.Kind.MAINTENANCE,
                title=titles[language],
                due_at=due_at,
                remind_at=due_at - REMIND_BEFORE,
                created_at=now,
            )
        )
    bulk.create_all(tasks, history=bulk.History())
    _announce(
        [
            replace(due, about=task, context={**due.context, "task": task})
            for due, task in zip(recorded, tasks, strict=True)
        ],
        now=now,
    )
    return len(tasks)


# --- 6. a newly won customer ----------------------------------------------------------------------


def welcome_tasks_create(*, customer: Customer, now: datetime.datetime) -> list[FollowUpTask]:
    """A welcome-letter task due within 3 days and a first-use visit within 7, once per
    customer (an existing welcome task, done or not, means it was done). The caller holds the
    customer's row lock, so two events for one customer cannot both create them."""
    owner = customer.owner
    if (
        owner is None
        or FollowUpTask.objects.filter(customer=customer, kind=FollowUpTask.Kind.WELCOME).exists()
    ):
        return []
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        titles = (gettext("Send the welcome letter"), gettext("First-use visit"))
    tasks = [
        FollowUpTask(
            customer=customer,
            owner=owner,
            kind=kind,
            title=title,
            due_at=now + within,
            remind_at=now + within - REMIND_BEFORE,
            created_at=now,
        )
        for kind, title, within in (
            (FollowUpTask.Kind.WELCOME, titles[0], WELCOME_WITHIN),
            (FollowUpTask.Kind.FIRST_USE, titles[1], FIRST_USE_WITHIN),
        )
    ]
    for task in tasks:
        task.save()  # one by one, for the history rows
    return tasks


def on_customer_changed(event: DomainEvent) -> None:
    """``customer.changed`` with the type among the changes: a customer that turned won gets its
    welcome tasks (from the event's time, so a late delivery keeps the promised days)."""
    if "type" not in (event.payload or {}).get("changed", []):
        return
    customer = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=event.object_id, type=Customer.Type.WON)
        .first()
    )
    if customer is not None:
        welcome_tasks_create(customer=customer, now=event.created_at)


events.subscribe(CUSTOMER_CHANGED, on_customer_changed)


# --- interactions for customers.tiers -------------------------------------------------------------


@register_activity_source
def follow_up_records(since: datetime.datetime) -> dict[int, int]:
    """Follow-up records per customer since ``since``: the activity tier's interactions."""
    rows = (
        FollowUpRecord.objects.filter(occurred_at__gte=since)
        .order_by()
        .values("customer_id")
        .annotate(count=Count("id"))
        .values_list("customer_id", "count")
    )
    return dict(rows)
