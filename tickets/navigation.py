from django.utils.translation import gettext_lazy as _

from crm.accounts.roles import Role
from crm.core.navigation import NavItem, register


def works_tickets(user) -> bool:  # type: ignore[no-untyped-def]
    return user.is_superuser or bool(
        user.roles & {Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.ADMIN, Role.ANALYST}
    )


def my_open_tickets(user) -> int:  # type: ignore[no-untyped-def]
    """Open tickets assigned to the user: the sidebar's count."""
    from tickets.models import Ticket

    return Ticket.objects.open().filter(assignee=user).count()


register(
    NavItem(
        "tickets",
        _("Service tickets"),
        "tickets:list",
        "bi-headset",
        _("My work"),
        30,
        works_tickets,
        count=my_open_tickets,
    )
)
