from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from analytics import (  # noqa: F401 - each module registers itself
            dashboards,
            demo,
            exports,
            navigation,
            schedules,
        )
        from crm.automation.models import Rule
        from crm.core import choices
        from followups.models import FollowUpMethod
        from opportunities.models import LostReason, Stage
        from tickets.models import TicketCategory

        dashboards.load()
        # The dashboards label their groups from these dictionaries, read from the cache.
        choices.track(Stage, LostReason, TicketCategory, Rule, FollowUpMethod)
