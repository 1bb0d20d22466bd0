from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service tickets")

    def ready(self) -> None:
        from crm.core import choices
        from tickets import (  # noqa: F401 - each module registers itself
            automation,
            demo,
            demo_surveys,
            events,
            models,
            navigation,
            panels,
            satisfaction,
            schedules,
            surveys,
        )

        # The ticket page's assignee and collaborator dropdowns come from the cache; a change of
        # queue membership renews them like a change of user.
        choices.track(models.QueueAgent, models.TicketCategory)
