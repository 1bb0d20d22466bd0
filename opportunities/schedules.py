from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "opportunities.remind_stale",
    task="opportunities.tasks.remind_stale_opportunities",
    crontab="0 9 * * *",
    description=_("Opportunities untouched too long in their stage, to the owner, once per stay."),
)
register(
    "opportunities.remind_overdue_instalments",
    task="opportunities.tasks.remind_overdue_instalments",
    crontab="10 9 * * *",
    description=_("Unpaid instalments past their due date, to the order's owner, once each."),
)
