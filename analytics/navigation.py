from django.utils.translation import gettext_lazy as _

from analytics import dashboards
from crm.core.navigation import NavItem, everyone, register


def sees_dashboards(user) -> bool:  # type: ignore[no-untyped-def]
    # Roles only (cached on the user): the sidebar asks on every page.
    return bool(dashboards.for_user(user))


register(
    NavItem(
        "analytics",
        _("Dashboards"),
        "analytics:index",
        "bi-bar-chart-line",
        _("Analytics"),
        600,
        sees_dashboards,
    )
)
register(
    NavItem(
        "action_plans",
        _("Action plans"),
        "analytics:action_plans",
        "bi-list-check",
        _("Analytics"),
        610,
        everyone,
    )
)
