from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "crm.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from crm.automation import actions, engine, schedules  # noqa: F401 - registrations
        from crm.core import events, navigation

        events.subscribe(events.ALL_EVENTS, engine.handle_event)
        navigation.register(
            navigation.NavItem(
                "automation_health",
                _("Automation health"),
                "admin:automation_rule_health",
                "bi-activity",
                _("System"),
                1010,
                lambda user: user.is_staff,
            )
        )
