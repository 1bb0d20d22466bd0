"""Panels on the customer page that later apps fill (follow-ups, opportunities, tickets).

An app registers a template and a function giving its context; the customer app knows no later
app. Each panel's function must run a bounded number of queries.

    panels.register(Panel("opportunities", 20, "opportunities/panels/customer.html", context_fn))
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm.accounts.models import User
from customers.models import Customer


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    template_name: str
    context: Callable[[Customer, User], dict[str, Any]]


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(customer: Customer, user: User) -> list[tuple[str, dict[str, Any]]]:
    return [
        (panel.template_name, panel.context(customer, user))
        for panel in sorted(_panels.values(), key=lambda panel: panel.order)
    ]
