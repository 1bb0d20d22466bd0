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
register(
    "tickets.fetch_mailboxes",
    task="tickets.tasks.fetch_mailboxes",
    every_seconds=120,
    description=_("Reads the service mailboxes and turns new mail into tickets or replies."),
)
register(
    "tickets.send_surveys",
    task="tickets.tasks.send_surveys",
    every_seconds=300,
    description=_(
        "Sends satisfaction surveys that are due: after closing, and NPS after a won deal."
    ),
)
register(
    "tickets.warn_calendar_year",
    task="tickets.tasks.warn_calendar_year",
    crontab="0 9 1-7 12 *",
    description=_("In December, warns admins when next year's holidays are not in the calendar."),
)
