from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "crm.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from crm.core import schedules

        schedules.register(
            "notifications.send_pending_emails",
            task="crm.notifications.tasks.send_pending_emails",
            every_seconds=60,
            description=_("Sends notification emails whose delivery was interrupted."),
        )
