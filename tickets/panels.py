"""Tickets on the customer page and on the home page; each panel runs a fixed number of queries
whatever the data size."""

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from crm.accounts.models import User
from crm.core.home import HomePanel
from crm.core.home import register as register_home
from customers.models import Customer
from customers.panels import Panel
from customers.panels import register as register_customer_panel
from tickets.models import Ticket
from tickets.navigation import works_tickets

PANEL_ROWS = 10


def customer_panel(customer: Customer, user: User) -> dict[str, Any]:
    tickets = Ticket.objects.visible_to(user).filter(customer=customer)
    return {
        "customer": customer,
        "tickets": tickets.select_related("category__parent", "assignee")[:PANEL_ROWS],
        "open_count": tickets.open().count(),
        "now": timezone.now(),
    }


def home_panel(user: User) -> dict[str, Any]:
    now = timezone.now()
    mine = Ticket.objects.open().filter(assignee=user)
    breached = Q(status__in=Ticket.RUNNING) & (
        Q(resolution_due__lte=now) | Q(first_responded_at__isnull=True, first_response_due__lte=now)
    )
    counts = mine.aggregate(count=Count("id"), breached_count=Count("id", filter=breached))
    return {
        "tickets": mine.filter(status__in=Ticket.RUNNING)
        .with_next_due()
        .select_related("customer")
        .order_by("next_due")[:PANEL_ROWS],
        "now": now,
        **counts,
    }


register_customer_panel(Panel("tickets", 30, "tickets/panels/customer.html", customer_panel))
register_home(HomePanel("tickets", 8, "tickets/panels/home.html", home_panel, works_tickets))
