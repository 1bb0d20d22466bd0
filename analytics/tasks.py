"""Thin beat task: the action-plan reminder sweep at the current time."""

from celery import shared_task
from django.utils import timezone

from analytics import services


@shared_task
def remind_action_plans() -> int:
    return services.remind_action_plans(now=timezone.now())
