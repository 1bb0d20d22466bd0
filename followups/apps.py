from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from followups import (  # noqa: F401 - each module registers itself
            automation,
            demo,
            navigation,
            panels,
            reminders,
            schedules,
        )
