"""The sidebar: each app registers its entries when it is ready; a user sees only those their
role may open. An entry may carry a count (tasks due, tickets waiting); the page renders
without it and fetches all counts in one request afterwards, so no page pays for the sidebar."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core.links import route_url


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str
    section: str | Promise
    order: int
    allowed: Callable[[User], bool]
    count: Callable[[User], int] | None = None

    @property
    def has_count(self) -> bool:  # templates call callables, so they ask this instead
        return self.count is not None

    @property
    def url(self) -> str:
        return route_url(self.url_name)


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user: User) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return sorted(
        (item for item in _items.values() if item.allowed(user)), key=lambda item: item.order
    )


def counts_for(user: User) -> dict[str, int]:
    """The counts of the user's entries that have one, by entry key."""
    return {item.key: item.count(user) for item in items_for(user) if item.count is not None}


def everyone(user: User) -> bool:
    return True


def approvals_to_decide(user: User) -> int:
    from crm.approvals.models import ApprovalRequest

    return ApprovalRequest.objects.pending().filter(approver=user).count()


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
            "approvals",
            _("Approvals"),
            "approvals:list",
            "bi-check2-square",
            work,
            910,
            everyone,
            count=approvals_to_decide,
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
