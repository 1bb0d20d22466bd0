"""The sidebar: each app registers its entries when it is ready; a user sees only those their
role may open."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    section: str | Promise
    order: int
    allowed: Callable[[User], bool]

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user: User) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return sorted(
        (item for item in _items.values() if item.allowed(user)), key=lambda item: item.order
    )


def everyone(user: User) -> bool:
    return True


def register_platform_items() -> None:
    work = _("My work")
    system = _("System")
    register(NavItem("home", _("Home"), "home", "bi-house-door", work, 0, everyone))
    register(
        NavItem(
            "notifications",
            _("Notifications"),
            "notifications:list",
            "bi-bell",
            work,
            900,
            everyone,
        )
    )
    register(
        NavItem(
            "approvals", _("Approvals"), "approvals:list", "bi-check2-square", work, 910, everyone
        )
    )
    register(
        NavItem(
            "admin",
            _("Administration"),
            "admin:index",
            "bi-gear",
            system,
            1000,
            lambda user: user.is_staff,
        )
    )
