from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customer archive")

    def ready(self) -> None:
        from crm.core import choices
        from customers import (  # noqa: F401 - each module registers itself
            approvals,
            automation,
            demo,
            demo_automation,
            events,
            home,
            models,
            navigation,
            schedules,
            tasks_transfer,
        )

        choices.track(
            models.CustomerCategory,
            models.CustomerLevel,
            models.CustomerScale,
            models.CustomField,
            models.DemandTag,
            models.Industry,
            models.SourceChannel,
        )
