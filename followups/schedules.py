from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register

register(
    "followups.remind_before_tasks",
    task="followups.tasks.remind_before_tasks",
    every_seconds=60,
    description=_("Reminds owners before their follow-up tasks, by each task's offset."),
)
register(
    "followups.remind_overdue_tasks",
    task="followups.tasks.remind_overdue_tasks",
    every_seconds=300,
    description=_(
        "Overdue follow-up tasks: the owner once, then the team head after the configured delay."
    ),
)
register(
    "followups.warn_no_contact",
    task="followups.tasks.warn_no_contact",
    crontab="15 * * * *",
    description=_("Warns owner and manager of customers not contacted 3 days after assignment."),
)
register(
    "followups.remind_birthdays",
    task="followups.tasks.remind_birthdays",
    crontab="0 8 * * *",
    description=_("Contacts' birthdays three days ahead, to the customer's owner."),
)
register(
    "followups.remind_contract_expiry",
    task="followups.tasks.remind_contract_expiry",
    crontab="5 8 * * *",
    description=_("Contracts ending within 30 days, to the customer's owner."),
)
register(
    "followups.create_maintenance_tasks",
    task="followups.tasks.create_maintenance_tasks",
    crontab="0 3 * * *",
    description=_("Relationship-maintenance tasks by value tier for customers that lack one."),
)
register(
    "followups.extend_plans",
    task="followups.tasks.extend_plans",
    crontab="30 2 * * *",
    description=_("Moves every active plan's task horizon forward, so upcoming tasks exist."),
)
