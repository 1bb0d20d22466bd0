"""The dashboards in ``make bench``: each as every bench role that may open it, built afresh
(no cache), and once more served from the cache. The dashboards read the other apps' generated
data; they have no data set step of their own."""

from django.urls import reverse

from analytics import dashboards
from crm.accounts.roles import Role
from crm.core import scale

# The bench's users (see crm.accounts.scale) by their role.
BENCH_ROLES = {
    "rep": Role.SALES_REP,
    "manager": Role.SALES_MANAGER,
    "agent": Role.SERVICE_AGENT,
    "analyst": Role.ANALYST,
}


def _url(key: str):  # type: ignore[no-untyped-def]
    return lambda bench, role: reverse("analytics:dashboard", args=[key])


for dashboard in dashboards.all_dashboards():
    roles = tuple(name for name, role in BENCH_ROLES.items() if role in dashboard.roles)
    title = f"{dashboard.key} dashboard"
    scale.page(
        title,
        "dashboard",
        roles=roles,
        url=_url(dashboard.key),
        overrides={"ANALYTICS_CACHE_SECONDS": 0},
    )
    scale.page(f"{title}, cached", "cached", roles=roles[-1:], url=_url(dashboard.key))
