"""Panels of the home page ("my work") that domain apps add.

    home.register(HomePanel("customers.assigned", 10, "customers/panels/home_assigned.html",
                            context=assigned_to_me, allowed=lambda user: ...))

Each panel's context function runs a bounded number of queries whatever the data size.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm.accounts.models import User


@dataclass(frozen=True)
class HomePanel:
    key: str
    order: int
    template_name: str
    context: Callable[[User], dict[str, Any]]
    allowed: Callable[[User], bool] = lambda user: True


_panels: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> None:
    _panels[panel.key] = panel


def panels_for(user: User) -> list[tuple[str, dict[str, Any]]]:
    return [
        (panel.template_name, panel.context(user))
        for panel in sorted(_panels.values(), key=lambda panel: panel.order)
        if panel.allowed(user)
    ]
