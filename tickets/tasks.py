"""Thin Celery tasks of the service desk."""

from celery import shared_task
from django.utils import timezone

from tickets import escalation, services


@shared_task
def sla_sweep() -> int:
    return escalation.sla_sweep(now=timezone.now())


@shared_task
def send_reply_email(message_id: int) -> bool:
    return services.reply_email_send(message_id=message_id)
