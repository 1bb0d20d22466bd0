"""The customer archive's panels on the home page."""

import datetime
from typing import Any

from django.utils import timezone

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.home import HomePanel, register
from customers.models import Customer


def customers_panel(user: User) -> dict[str, Any]:
    since = timezone.now() - datetime.timedelta(days=7)
    context: dict[str, Any] = {
        "assigned": Customer.objects.filter(owner=user, assigned_at__gte=since)
        .select_related("source")
        .order_by("-assigned_at")[:8],
        "queue": None,
    }
    if user.is_superuser or user.roles & {Role.SALES_MANAGER, Role.ADMIN}:
        queue = Customer.objects.visible_to(user).to_be_assigned()
        context["queue"] = queue.order_by("-created_at")[:5]
        context["queue_count"] = queue.count()
    return context


register(
    HomePanel(
        "customers",
        10,
        "customers/panels/home_customers.html",
        context=customers_panel,
        allowed=lambda user: (
            user.is_superuser or bool(user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN})
        ),
    )
)
