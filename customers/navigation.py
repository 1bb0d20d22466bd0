from django.utils.translation import gettext_lazy as _

from crm.accounts.roles import Role
from crm.core.navigation import NavItem, register


def sees_customers(user) -> bool:  # type: ignore[no-untyped-def]
    return user.is_superuser or bool(
        user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN, Role.ANALYST}
    )


def imports_customers(user) -> bool:  # type: ignore[no-untyped-def]
    return user.is_superuser or bool(user.roles & {Role.SALES_MANAGER, Role.ADMIN})


register(
    NavItem(
        "customers",
        _("Customers"),
        "customers:list",
        "bi-building",
        _("Sales"),
        100,
        sees_customers,
    )
)
register(
    NavItem(
        "customer_import",
        _("Import customers"),
        "customers:import",
        "bi-upload",
        _("Sales"),
        110,
        imports_customers,
    )
)
