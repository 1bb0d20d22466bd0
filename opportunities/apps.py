from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        from opportunities import (  # noqa: F401 - each module registers itself
            demo,
            events,
            navigation,
            panels,
            reminders,
            schedules,
        )
