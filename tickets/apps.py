from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Service tickets")

    def ready(self) -> None:
        from tickets import (  # noqa: F401 - each module registers itself
            automation,
            demo,
            demo_surveys,
            events,
            navigation,
            panels,
            satisfaction,
            schedules,
            surveys,
        )
