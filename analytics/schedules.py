from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "analytics.remind_action_plans",
    task="analytics.tasks.remind_action_plans",
    crontab="30 8 * * *",
    description=_("Action plans about to fall due, and overdue ones, to their owners, once each."),
)
