"""The service desk's models, split by resource."""

from tickets.models.calendar import CalendarDay, WorkingHours
from tickets.models.config import (
    DeskSettings,
    Priority,
    QueueAgent,
    ServiceQueue,
    SLAPolicy,
    TicketCategory,
)
from tickets.models.inbound import InboundEmail, Mailbox
from tickets.models.surveys import Survey, SurveySettings
from tickets.models.tickets import (
    Collaborator,
    DelayExplanation,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketQuerySet,
)

__all__ = [
    "CalendarDay",
    "Collaborator",
    "DelayExplanation",
    "DeskSettings",
    "InboundEmail",
    "Mailbox",
    "Priority",
    "QueueAgent",
    "SLAPolicy",
    "ServiceQueue",
    "Survey",
    "SurveySettings",
    "Ticket",
    "TicketCategory",
    "TicketEvent",
    "TicketMessage",
    "TicketQuerySet",
    "WorkingHours",
]
