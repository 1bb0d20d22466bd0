from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = _("System")

    def ready(self) -> None:
        from crm.core import navigation, schedules

        navigation.register_platform_items()
        schedules.register(
            "core.heartbeat",
            task="crm.core.tasks.record_heartbeat",
            every_seconds=60,
            description=_("Writes the beat heartbeat that /health/ reports."),
        )
        schedules.register(
            "core.deliver_pending_events",
            task="crm.core.tasks.deliver_pending_events",
            every_seconds=60,
            description=_("Delivers domain events whose delivery was interrupted."),
        )
