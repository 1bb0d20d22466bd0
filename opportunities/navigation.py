from django.utils.translation import gettext_lazy as _

from crm.accounts.roles import Role
from crm.core.navigation import NavItem, register


def sees_pipeline(user) -> bool:  # type: ignore[no-untyped-def]
    return user.is_superuser or bool(
        user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN, Role.ANALYST}
    )


def sees_finance(user) -> bool:  # type: ignore[no-untyped-def]
    from opportunities.services import can_see_finance

    return can_see_finance(user)


register(
    NavItem(
        "opportunity_board",
        _("Pipeline"),
        "opportunities:board",
        "bi-kanban",
        _("Sales"),
        120,
        sees_pipeline,
    )
)
register(
    NavItem(
        "opportunities",
        _("Opportunities"),
        "opportunities:list",
        "bi-briefcase",
        _("Sales"),
        130,
        sees_pipeline,
    )
)
register(
    NavItem(
        "forecast",
        _("Forecast"),
        "opportunities:forecast",
        "bi-graph-up-arrow",
        _("Sales"),
        140,
        sees_pipeline,
    )
)
register(
    NavItem(
        "finance",
        _("Payments"),
        "opportunities:finance",
        "bi-cash-coin",
        _("Sales"),
        150,
        sees_finance,
    )
)
