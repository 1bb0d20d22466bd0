"""The SLA sweep (every minute): warn the assignee before a deadline, and on a breach tell the
department head and emit ``ticket.sla_breached``.

Each announcement is claimed with a conditional update of its own column (``*_warned_at``,
``*_breached_at``): only the run whose update changed a row goes on, so running the sweep twice,
or on two workers at once, announces nothing twice. Each ticket is handled in its own short
transaction, so a failure rolls back its claim too and the next run tries again. The sweep
selects everything due up to ``now``, so a missed run catches up.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from crm.core import events
from crm.notifications.services import notify
from tickets.events import TICKET_SLA_BREACHED
from tickets.models import SLAPolicy, Ticket, TicketEvent
from tickets.services import event_data, sla_policy_for

logger = logging.getLogger(__name__)

BATCH = 500
RESPONSE = "response"
RESOLUTION = "resolution"


def _due_field(deadline: str) -> str:
    return "first_response_due" if deadline == RESPONSE else "resolution_due"


def _candidates(
    deadline: str,
    column: str,
    until: datetime.datetime,
    after: datetime.datetime | None = None,
) -> list[int]:
    """Unclaimed running tickets whose deadline falls by ``until`` (and, for warnings, after
    ``after``: a deadline already passed is the breach's, and left in it would fill every
    batch and starve the warnings behind it)."""
    due = _due_field(deadline)
    running = Ticket.objects.running().filter(**{f"{column}__isnull": True, f"{due}__lte": until})
    if after is not None:
        running = running.filter(**{f"{due}__gt": after})
    if deadline == RESPONSE:
        running = running.filter(first_responded_at__isnull=True)
    return list(running.order_by(due).values_list("pk", flat=True)[:BATCH])


def _claim(ticket_id: int, column: str, now: datetime.datetime) -> Ticket | None:
    claimed = (
        Ticket.objects.running()
        .filter(Q(pk=ticket_id), **{f"{column}__isnull": True})
        .update(**{column: now})
    )
    if not claimed:
        return None
    return Ticket.objects.select_related("assignee", "department__head", "category").get(
        pk=ticket_id
    )


def _label(deadline: str) -> str:
    return _("first response") if deadline == RESPONSE else _("resolution")


def warn_before_breach(now: datetime.datetime) -> int:
    """Tells assignees of deadlines within their policy's warning threshold."""
    widest = SLAPolicy.objects.aggregate(widest=Max("warn_before_minutes"))["widest"] or 0
    horizon = now + datetime.timedelta(minutes=widest)
    sent = 0
    for deadline, column in (
        (RESPONSE, "response_warned_at"),
        (RESOLUTION, "resolution_warned_at"),
    ):
        for ticket_id in _candidates(deadline, column, horizon, after=now):
            with transaction.atomic():
                ticket = Ticket.objects.select_related("category").get(pk=ticket_id)
                due = getattr(ticket, _due_field(deadline))
                if due <= now:
                    continue  # the breach takes over
                policy = sla_policy_for(ticket.priority, ticket.category)
                if due - datetime.timedelta(minutes=policy.warn_before_minutes) > now:
                    continue
                claimed = _claim(ticket_id, column, now)
                if claimed is None:
                    continue
                ticket = claimed
                TicketEvent.objects.create(
                    ticket=ticket,
                    kind=TicketEvent.Kind.SLA_WARNING,
                    note=_("The %(deadline)s deadline is near.") % {"deadline": _label(deadline)},
                    created_at=now,
                )
                notify(
                    [ticket.assignee],
                    "ticket_sla_warning",
                    ticket,
                    url=ticket.get_absolute_url(),
                    context={"ticket": ticket, "deadline": _label(deadline), "due": due},
                )
                sent += 1
    return sent


def escalate_breaches(now: datetime.datetime) -> int:
    """Tells the department head (and the assignee) of each passed deadline, once."""
    sent = 0
    for deadline, column in (
        (RESPONSE, "response_breached_at"),
        (RESOLUTION, "resolution_breached_at"),
    ):
        for ticket_id in _candidates(deadline, column, now):
            with transaction.atomic():
                ticket = _claim(ticket_id, column, now)
                if ticket is None:
                    continue
                due = getattr(ticket, _due_field(deadline))
                TicketEvent.objects.create(
                    ticket=ticket,
                    kind=TicketEvent.Kind.SLA_BREACH,
                    note=_("The %(deadline)s deadline has passed.")
                    % {"deadline": _label(deadline)},
                    created_at=now,
                )
                head = ticket.department.head if ticket.department else None
                notify(
                    [head, ticket.assignee],
                    "ticket_sla_breached",
                    ticket,
                    url=ticket.get_absolute_url(),
                    context={"ticket": ticket, "deadline": _label(deadline), "due": due},
                )
                events.emit(
                    TICKET_SLA_BREACHED,
                    ticket,
                    data={**event_data(ticket), "deadline": deadline},
                )
                sent += 1
    return sent


def sla_sweep(*, now: datetime.datetime) -> int:
    return escalate_breaches(now) + warn_before_breach(now)
