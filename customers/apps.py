from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customer archive")

    def ready(self) -> None:
        from customers import (  # noqa: F401 - each module registers itself
            approvals,
            automation,
            demo,
            demo_automation,
            events,
            home,
            navigation,
            schedules,
            tasks_transfer,
        )
