from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "customers.recompute_tiers",
    task="customers.tasks.recompute_tiers",
    crontab="30 2 * * *",
    description=_(
        "Nightly: value and activity tiers, and customers lost after months without cooperation."
    ),
)
