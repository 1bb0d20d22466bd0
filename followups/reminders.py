"""Reminder sweeps (SPEC §2, issue 5 "Reminders"): before a task, overdue and its escalation,
no contact after assignment, birthdays, contract expiry, relationship maintenance by value tier,
and the welcome tasks of a newly won customer.

Every sweep takes ``now`` and selects everything due up to it, not just what fell due in the last
minute, so a missed run catches up on the next one. Each target is claimed twice over: a
conditional update of the task's own column where there is one (``reminded_at``,
``overdue_notified_at``, ``escalated_at``), and always a ``Reminder`` row, unique per kind,
target, occasion and recipient, inserted in a savepoint with the notification: an
``IntegrityError`` means another run (or worker) sent it already. Running a sweep twice, or on
two workers at once, sends nothing twice. Each target is handled in its own short transaction so
that a failure rolls back its claim too and the next run tries again.
"""

from __future__ import annotations

import calendar
import datetime
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import NoReverseMatch
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core import events
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from crm.notifications.services import notify
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


def _url(record: models.Model) -> str:
    if isinstance(record, FollowUpTask):
        try:
            return record.get_absolute_url()
        except NoReverseMatch:  # the task page is not routed (yet): the customer's page will do
            pass
    customer = record if isinstance(record, Customer) else getattr(record, "customer", None)
    return customer.get_absolute_url() if customer is not None else ""


def _claim(
    *, kind: str, target: models.Model, occasion: str, recipient: User, now: datetime.datetime
) -> bool:
    """Records the reminder; False when it was sent already (by this run's twin or an earlier
    one). Must run inside the caller's savepoint so that a failed notification undoes it."""
    try:
        with transaction.atomic():
            Reminder.objects.create(
                kind=kind,
                target_type=ContentType.objects.get_for_model(target),
                target_id=target.pk,
                occasion=occasion,
                recipient=recipient,
                sent_at=now,
            )
    except IntegrityError:
        return False
    return True


def _deliver(
    user: User,
    kind: str,
    target: models.Model,
    *,
    now: datetime.datetime,
    context: dict[str, Any],
) -> None:
    in_app, email = channels(user, kind)
    if not (in_app or email):
        return
    created = notify([user], VERBS[kind], target, url=_url(target), context=context, email=email)
    if not in_app:
        # notify() always writes the inbox row (the email is sent from it); filed as read, it
        # neither counts nor nags in the inbox.
        Notification.objects.filter(pk__in=[item.pk for item in created]).update(read_at=now)


def _send(
    *,
    kind: str,
    target: models.Model,
    occasion: str,
    recipients: Iterable[User | None],
    now: datetime.datetime,
    context: dict[str, Any],
) -> int:
    """Sends one reminder to each recipient who has not had it; returns how many were sent."""
    sent = 0
    seen: set[int] = set()
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        with transaction.atomic():
            if not _claim(kind=kind, target=target, occasion=occasion, recipient=user, now=now):
                continue
            _deliver(user, kind, target, now=now, context=context)
        sent += 1
    return sent


def head_above(user: User | None) -> User | None:
    """The head of the user's team, or of the nearest team above with a head other than them."""
    if user is None:
        return None
    team = user.team
    seen: set[int] = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        head = team.head if team.head_id and team.head_id != user.pk else None
        if head is not None and head.is_active:
            return head
        team = team.parent
    return None


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
    sent = 0
    for page in _batches(due):
        for task in page:
            with transaction.atomic():
                claimed = FollowUpTask.objects.filter(
                    pk=task.pk, status=FollowUpTask.Status.PENDING, reminded_at__isnull=True
                ).update(reminded_at=now)
                if not claimed:
                    continue
                sent += _send(
                    kind=Kind.BEFORE_TASK,
                    target=task,
                    occasion=_moment(task.due_at),
                    recipients=[task.owner],
                    now=now,
                    context={"task": task, "customer": task.customer},
                )
    return sent


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
        .select_related("owner__team", "customer")
    )
    sent = 0
    for page in _batches(due):
        for task in page:
            sent += _overdue_task(task, now=now, escalate_before=escalate_before)
    return sent


def _overdue_task(
    task: FollowUpTask, *, now: datetime.datetime, escalate_before: datetime.datetime
) -> int:
    sent = 0
    context = {"task": task, "customer": task.customer, "owner": task.owner}
    pending = FollowUpTask.objects.filter(pk=task.pk, status=FollowUpTask.Status.PENDING)
    with transaction.atomic():
        # The conditional update is the claim: a second worker's UPDATE waits for this row's
        # lock, then finds the column set and changes nothing.
        if task.overdue_notified_at is None and pending.filter(
            overdue_notified_at__isnull=True
        ).update(overdue_notified_at=now):
            sent += _send(
                kind=Kind.OVERDUE,
                target=task,
                occasion=_moment(task.due_at),
                recipients=[task.owner],
                now=now,
                context=context,
            )
    if task.due_at > escalate_before:
        return sent
    with transaction.atomic():
        if pending.filter(escalated_at__isnull=True).update(escalated_at=now):
            sent += _send(
                kind=Kind.OVERDUE_ESCALATION,
                target=task,
                occasion=_moment(task.due_at),
                recipients=[head_above(task.owner)],
                now=now,
                context=context,
            )
    return sent


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
        .select_related("owner__team")
    )
    sent = 0
    for page in _batches(due):
        for customer in page:
            assert customer.assigned_at is not None  # noqa: S101 - filtered above
            with transaction.atomic():
                sent += _send(
                    kind=Kind.NO_CONTACT,
                    target=customer,
                    occasion=_moment(customer.assigned_at),
                    recipients=[customer.owner, head_above(customer.owner)],
                    now=now,
                    context={"customer": customer, "owner": customer.owner},
                )
    return sent


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
    sent = 0
    for page in _batches(due):
        for contact in page:
            assert contact.birthday is not None  # noqa: S101 - filtered above
            on = _birthday_in(contact.birthday, today, end)
            with transaction.atomic():
                sent += _send(
                    kind=Kind.BIRTHDAY,
                    target=contact,
                    occasion=on.isoformat(),
                    recipients=[contact.customer.owner],
                    now=now,
                    context={
                        "contact": contact,
                        "customer": contact.customer,
                        "on": on,
                        "days_left": (on - today).days,
                    },
                )
    return sent


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
    sent = 0
    for customer_id, contract_id, ends_on, label in expiring:
        customer = by_id.get(customer_id)
        if customer is None:
            continue
        with transaction.atomic():
            sent += _send(
                kind=Kind.CONTRACT_EXPIRY,
                target=customer,
                occasion=f"{contract_id}:{ends_on.isoformat()}",
                recipients=[customer.owner],
                now=now,
                context={
                    "customer": customer,
                    "contract": label,
                    "ends_on": ends_on,
                    "days_left": (ends_on - today).days,
                },
            )
    return sent


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
        for page in _batches(due.select_related("owner")):
            for customer in page:
                created += _maintenance_task(customer, cadence, now=now)
    return created


def _maintenance_task(customer: Customer, cadence: Cadence, *, now: datetime.datetime) -> int:
    owner = customer.owner
    if owner is None or not owner.is_active:
        return 0
    occasion = f"{cadence.code}:{timezone.localdate(now).isoformat()}"
    with transaction.atomic():
        if not _claim(
            kind=Kind.MAINTENANCE, target=customer, occasion=occasion, recipient=owner, now=now
        ):
            return 0
        due_at = now + MAINTENANCE_DUE_WITHIN
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            title = str(cadence.title)
        task = FollowUpTask.objects.create(
            customer=customer,
            owner=owner,
            kind=FollowUpTask.Kind.MAINTENANCE,
            title=title,
            due_at=due_at,
            remind_at=due_at - REMIND_BEFORE,
            created_at=now,
        )
        _deliver(
            owner, Kind.MAINTENANCE, task, now=now, context={"task": task, "customer": customer}
        )
    return 1


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
