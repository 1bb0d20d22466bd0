"""The events the service desk emits, with the fields rule conditions may test."""

from django.utils.translation import gettext_lazy as _

from crm.core.events import EventType, declare

TICKET_FIELDS = {
    "status": _("status"),
    "priority": _("priority"),
    "channel": _("channel"),
    "category": _("category"),
    "queue": _("queue"),
    "assignee": _("assignee"),
}

TICKET_CREATED = "ticket.created"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_SLA_BREACHED = "ticket.sla_breached"

MODEL = "tickets.ticket"

declare(EventType(TICKET_CREATED, _("Ticket created"), TICKET_FIELDS, MODEL))
declare(EventType(TICKET_STATUS_CHANGED, _("Ticket status changed"), TICKET_FIELDS, MODEL))
declare(EventType(TICKET_SLA_BREACHED, _("Ticket SLA breached"), TICKET_FIELDS, MODEL))
