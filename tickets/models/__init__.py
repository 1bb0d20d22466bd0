"""The service desk's models, split by resource."""

from tickets.models.config import (
    DeskSettings,
    Priority,
    QueueAgent,
    ServiceQueue,
    SLAPolicy,
    TicketCategory,
)
from tickets.models.tickets import (
    Collaborator,
    DelayExplanation,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketQuerySet,
)

__all__ = [
    "Collaborator",
    "DelayExplanation",
    "DeskSettings",
    "Priority",
    "QueueAgent",
    "SLAPolicy",
    "ServiceQueue",
    "Ticket",
    "TicketCategory",
    "TicketEvent",
    "TicketMessage",
    "TicketQuerySet",
]
