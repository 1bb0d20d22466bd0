"""Panels on the customer page that later apps fill (follow-ups, opportunities, tickets).

An app registers a template and a function giving its context; the customer app knows no later
app. Each panel's function must run a bounded number of queries. The page itself renders only a
slot per panel; each slot fetches its panel (``customers:panel``) once the page has loaded, so the
page's own cost does not grow with every app that adds a panel.

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


def panel_keys() -> list[str]:
    return [panel.key for panel in sorted(_panels.values(), key=lambda panel: panel.order)]


def get_panel(key: str) -> Panel | None:
    return _panels.get(key)
