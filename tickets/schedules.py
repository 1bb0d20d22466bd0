from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "tickets.sla_sweep",
    task="tickets.tasks.sla_sweep",
    every_seconds=60,
    description=_(
        "Warns assignees before SLA deadlines; on a breach notifies the department head."
    ),
)
