from typing import Any

from django.http import HttpRequest

from crm.accounts.roles import Role
from crm.core import navigation
from crm.core.models import CompanySettings


def shell(request: HttpRequest) -> dict[str, Any]:
    """What base.html needs on every page: the company, the sidebar and the unread count."""
    from crm.notifications.models import Notification

    company = getattr(request, "company", None) or CompanySettings.load()  # see the middleware
    context: dict[str, Any] = {"company": company}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    context["nav_items"] = navigation.items_for(user)
    context["user_role_labels"] = [Role(name).label for name in sorted(user.roles) if name in Role]
    context["unread_count"] = Notification.objects.filter(recipient=user).unread().count()
    return context
