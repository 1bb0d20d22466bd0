"""Thin beat tasks: each runs one reminder sweep (followups.reminders) at the current time.

Every sweep is idempotent and catches up on whatever a missed run left, so a retry, a late run
or two workers running the same job send nothing twice.
"""

from celery import shared_task
from django.utils import timezone

from followups import reminders, services


@shared_task
def remind_before_tasks() -> int:
    return reminders.remind_before_tasks(now=timezone.now())


@shared_task
def remind_overdue_tasks() -> int:
    return reminders.remind_overdue_tasks(now=timezone.now())


@shared_task
def warn_no_contact() -> int:
    return reminders.warn_no_contact(now=timezone.now())


@shared_task
def remind_birthdays() -> int:
    return reminders.remind_birthdays(now=timezone.now())


@shared_task
def remind_contract_expiry() -> int:
    return reminders.remind_contract_expiry(now=timezone.now())


@shared_task
def create_maintenance_tasks() -> int:
    return reminders.create_maintenance_tasks(now=timezone.now())


@shared_task
def extend_plans() -> int:
    return services.plans_extend(now=timezone.now())
