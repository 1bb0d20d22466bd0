"""Thin beat tasks: each runs one idempotent sweep of opportunities.reminders at the current
time."""

from celery import shared_task
from django.utils import timezone

from opportunities import reminders


@shared_task
def remind_stale_opportunities() -> int:
    return reminders.remind_stale_opportunities(now=timezone.now())


@shared_task
def remind_overdue_instalments() -> int:
    return reminders.remind_overdue_instalments(now=timezone.now())
