"""The SLA sweep (every minute): warn the assignee before a deadline, and on a breach tell the
department head and emit ``ticket.sla_breached``.

Each announcement is claimed through its own column (``*_warned_at``, ``*_breached_at``): the
rows still unclaimed are locked and the column set, and a second run (or worker) waits on those
locks, then finds the rows claimed, so running the sweep twice, or on two workers at once,
announces nothing twice. The due tickets are handled in chunks
(``crm.core.sweeps``): each chunk's rows are locked, claimed with one update and announced with
one insert each of log rows, notifications and domain events, in one transaction, so a failure
rolls back its claims too and the next run tries again (a failed chunk is retried ticket by
ticket). The sweep selects everything due up to ``now``, so a missed run catches up.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from functools import partial

from django.db.models import Max, Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import User
from crm.core import bulk, events, sweeps
from crm.notifications.services import Message, notify_many
from tickets.events import TICKET_SLA_BREACHED
from tickets.models import SLAPolicy, Ticket, TicketEvent
from tickets.services import event_data, sla_policy_for

logger = logging.getLogger(__name__)

BATCH = 500
# What the sweep reads of a ticket: its deadlines and what the messages, the policy look-up and
# the event's data name. Not the whole row: the contact's phone, decrypted for nothing.
LOCKED_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "category",
    "queue",
    "assignee",
    "department__head",
    "first_response_due",
    "resolution_due",
    "first_responded_at",
)
RESPONSE = "response"
RESOLUTION = "resolution"


def _due_field(deadline: str) -> str:
    return "first_response_due" if deadline == RESPONSE else "resolution_due"


def _due_pages(
    deadline: str,
    column: str,
    until: datetime.datetime,
    after: datetime.datetime | None = None,
) -> Iterator[list[int]]:
    """Unclaimed running tickets whose deadline falls by ``until`` (and, for warnings, after
    ``after``: a deadline already passed is the breach's, and left in it would fill every
    page and starve the warnings behind it), in keyset pages of ``BATCH`` in due order: each
    page one bounded query, and one run works through the whole backlog. Tickets a page leaves
    unclaimed (a warning not yet within its own policy's threshold, a failed chunk) are behind
    the key, so no page reads them again."""
    due = _due_field(deadline)
    running = Ticket.objects.running().filter(**{f"{column}__isnull": True, f"{due}__lte": until})
    if after is not None:
        running = running.filter(**{f"{due}__gt": after})
    if deadline == RESPONSE:
        running = running.filter(first_responded_at__isnull=True)
    page = running
    while True:
        rows = list(page.order_by(due, "pk").values_list(due, "pk")[:BATCH])
        if rows:
            yield [pk for _due, pk in rows]
        if len(rows) < BATCH:
            return
        last_due, last_pk = rows[-1]
        page = running.filter(
            Q(**{f"{due}__gt": last_due}) | Q(**{due: last_due, "pk__gt": last_pk})
        )


def _locked(ids: list[int], deadline: str, column: str) -> list[Ticket]:
    """The chunk's tickets still running and unclaimed, locked in due order: a second sweep
    waits on the first one's locks (the same order, so never a deadlock) and then, the rows
    re-read, finds them claimed."""
    due = _due_field(deadline)
    unclaimed = Ticket.objects.running().filter(pk__in=ids, **{f"{column}__isnull": True})
    if deadline == RESPONSE:
        unclaimed = unclaimed.filter(first_responded_at__isnull=True)
    return list(
        unclaimed.select_for_update(of=("self",))
        .select_related("assignee", "department__head", "category")
        .only(*LOCKED_COLUMNS)
        .order_by(due, "pk")
    )


def _claim(tickets: list[Ticket], column: str, now: datetime.datetime) -> None:
    Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(**{column: now})
    for ticket in tickets:
        setattr(ticket, column, now)


def _label(deadline: str) -> Promise:
    """The deadline's name, translated where it is shown: the log's note in the sweep's
    language, a notification in its recipient's."""
    return gettext_lazy("first response") if deadline == RESPONSE else gettext_lazy("resolution")


def _log(tickets: list[Ticket], kind: str, note: str, now: datetime.datetime) -> None:
    bulk.insert_values(
        TicketEvent,
        [
            {"ticket_id": ticket.pk, "kind": kind, "note": note, "created_at": now}
            for ticket in tickets
        ],
    )


def _announce(
    tickets: list[Ticket],
    *,
    deadline: str,
    column: str,
    now: datetime.datetime,
    kind: str,
    note: str,
    verb: str,
    recipients: Callable[[Ticket], list[User | None]],
) -> None:
    """Claims the chunk's tickets, logs ``note`` on each and notifies their ``recipients``."""
    _claim(tickets, column, now)
    label = _label(deadline)
    _log(tickets, kind, note % {"deadline": label}, now)
    due_field = _due_field(deadline)
    notify_many(
        Message(
            recipients=recipients(ticket),
            verb=verb,
            target=ticket,
            url=ticket.get_absolute_url(),
            context={"ticket": ticket, "deadline": label, "due": getattr(ticket, due_field)},
        )
        for ticket in tickets
    )


def warn_before_breach(now: datetime.datetime) -> int:
    """Tells assignees of deadlines within their policy's warning threshold."""
    widest = SLAPolicy.objects.aggregate(widest=Max("warn_before_minutes"))["widest"] or 0
    horizon = now + datetime.timedelta(minutes=widest)
    policies: dict[tuple[str, int | None], SLAPolicy] = {}
    sent = 0
    for deadline, column in (
        (RESPONSE, "response_warned_at"),
        (RESOLUTION, "resolution_warned_at"),
    ):
        warn = partial(_warn, deadline=deadline, column=column, now=now, policies=policies)
        for page in _due_pages(deadline, column, horizon, after=now):
            sent += sweeps.in_chunks(page, warn)
    return sent


def _warn(
    ids: list[int],
    *,
    deadline: str,
    column: str,
    now: datetime.datetime,
    policies: dict[tuple[str, int | None], SLAPolicy],
) -> int:
    due_field = _due_field(deadline)
    near = []
    for ticket in _locked(ids, deadline, column):
        due = getattr(ticket, due_field)
        if due <= now:
            continue  # the breach takes over
        key = (ticket.priority, ticket.category_id)
        if key not in policies:
            policies[key] = sla_policy_for(ticket.priority, ticket.category)
        if due - datetime.timedelta(minutes=policies[key].warn_before_minutes) <= now:
            near.append(ticket)
    if not near:
        return 0
    _announce(
        near,
        deadline=deadline,
        column=column,
        now=now,
        kind=TicketEvent.Kind.SLA_WARNING,
        note=_("The %(deadline)s deadline is near."),
        verb="ticket_sla_warning",
        recipients=lambda ticket: [ticket.assignee],
    )
    return len(near)


def escalate_breaches(now: datetime.datetime) -> int:
    """Tells the department head (and the assignee) of each passed deadline, once."""
    sent = 0
    for deadline, column in (
        (RESPONSE, "response_breached_at"),
        (RESOLUTION, "resolution_breached_at"),
    ):
        escalate = partial(_escalate, deadline=deadline, column=column, now=now)
        for page in _due_pages(deadline, column, now):
            sent += sweeps.in_chunks(page, escalate)
    return sent


def _escalate(ids: list[int], *, deadline: str, column: str, now: datetime.datetime) -> int:
    tickets = _locked(ids, deadline, column)
    if not tickets:
        return 0
    _announce(
        tickets,
        deadline=deadline,
        column=column,
        now=now,
        kind=TicketEvent.Kind.SLA_BREACH,
        note=_("The %(deadline)s deadline has passed."),
        verb="ticket_sla_breached",
        recipients=lambda ticket: [
            ticket.department.head if ticket.department else None,
            ticket.assignee,
        ],
    )
    events.emit_many(
        TICKET_SLA_BREACHED,
        tickets,
        data=[{**event_data(ticket), "deadline": deadline} for ticket in tickets],
    )
    return len(tickets)


def sla_sweep(*, now: datetime.datetime) -> int:
    return escalate_breaches(now) + warn_before_breach(now)
