from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "automation.run_delayed_rules",
    task="crm.automation.tasks.run_delayed_rules",
    every_seconds=300,
    description=_("Runs rules that wait hours after their event (e.g. leads still unassigned)."),
)
register(
    "automation.send_failure_alerts",
    task="crm.automation.tasks.send_failure_alerts",
    every_seconds=3600,
    description=_("Tells admins about rules whose assignment failure rate is too high."),
)
