"""What automation rules can do with tickets (trigger "ticket created" and the others of
tickets.events): dispatch by the category's queue, and set the priority. Registered into
crm.automation's registry when the app is ready; ``describe`` changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.models import Action
from crm.automation.registry import ActionError, ActionType, RunContext, register
from tickets import services
from tickets.models import Priority, Ticket

MODEL = "tickets.ticket"


def _ticket(record: models.Model) -> Ticket:
    if not isinstance(record, Ticket):  # the engine checks the model; this is for mypy
        raise ActionError(_("This action applies to tickets only."))
    return record


def apply_dispatch(record: models.Model, action: Action, context: RunContext) -> str:
    ticket = _ticket(record)
    if ticket.assignee_id is not None:
        return _("Already assigned to %(name)s") % {"name": ticket.assignee}
    assignee = services.ticket_dispatch(ticket=ticket)
    if assignee is None:
        raise ActionError(_("Nobody in the category's queue is on duty."))
    return _("Dispatched to %(name)s") % {"name": assignee.display_name}


def describe_dispatch(record: models.Model, action: Action) -> str:
    ticket = _ticket(record)
    queue = ticket.queue or ticket.category.routed_queue()
    if queue is None:
        return _("The category has no queue: the ticket would stay in the pool.")
    return _("Would dispatch to an agent on duty in %(queue)s") % {"queue": queue}


def _priority(value: str) -> str:
    code = (value or "").strip()
    if code not in Priority.values:
        raise ActionError(
            _("“%(value)s” is not a priority; use one of: %(codes)s.")
            % {"value": code, "codes": ", ".join(Priority.values)}
        )
    return code


def apply_set_priority(record: models.Model, action: Action, context: RunContext) -> str:
    ticket = _ticket(record)
    priority = _priority(action.value)
    services.ticket_change_priority(ticket=ticket, priority=priority, by=None)
    return _("Priority set to %(priority)s") % {"priority": Priority(priority).label}


def describe_set_priority(record: models.Model, action: Action) -> str:
    _ticket(record)
    return _("Would set the priority to %(priority)s") % {
        "priority": Priority(_priority(action.value)).label
    }


def clean_set_priority(data: dict[str, Any]) -> None:
    value = (data.get("value") or "").strip()
    if value and value not in Priority.values:
        raise ValidationError(
            {"value": _("Use one of: %(codes)s.") % {"codes": ", ".join(Priority.values)}}
        )


register(
    ActionType(
        code="tickets.dispatch",
        label=gettext_lazy("Assign by the category's queue (round-robin or least loaded)"),
        model=MODEL,
        apply=apply_dispatch,
        describe=describe_dispatch,
        is_assignment=True,
    )
)
register(
    ActionType(
        code="tickets.set_priority",
        label=gettext_lazy(
            "Set the ticket's priority (value: urgent, important, normal, suggestion)"
        ),
        model=MODEL,
        apply=apply_set_priority,
        describe=describe_set_priority,
        required=("value",),
        clean=clean_set_priority,
    )
)
