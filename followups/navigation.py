from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.roles import Role
from crm.core.navigation import NavItem, register


def follows_up(user) -> bool:  # type: ignore[no-untyped-def]
    return user.is_superuser or bool(user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN})


def due_today(user) -> int:  # type: ignore[no-untyped-def]
    """Pending tasks due before tomorrow, overdue ones included: the sidebar's count."""
    from followups.models import FollowUpTask
    from followups.services import day_bounds

    _start, end_of_today = day_bounds(timezone.now())
    return FollowUpTask.objects.filter(owner=user, due_at__lt=end_of_today).pending().count()


register(
    NavItem(
        "followups",
        _("My tasks"),
        "followups:list",
        "bi-list-check",
        _("My work"),
        10,
        follows_up,
        count=due_today,
    )
)
register(
    NavItem(
        "followups_calendar",
        _("Calendar"),
        "followups:calendar",
        "bi-calendar3",
        _("My work"),
        20,
        follows_up,
    )
)
