"""Thin Celery tasks of the service desk."""

from celery import shared_task
from django.utils import timezone

from tickets import calendar, escalation, inbound, intake, services, surveys


@shared_task
def sla_sweep() -> int:
    return escalation.sla_sweep(now=timezone.now())


@shared_task
def send_reply_email(message_id: int) -> bool:
    return services.reply_email_send(message_id=message_id)


@shared_task
def fetch_mailboxes() -> int:
    return inbound.mailboxes_fetch()


@shared_task
def send_surveys() -> int:
    return surveys.surveys_send_due(now=timezone.now())


@shared_task
def warn_calendar_year() -> bool:
    return calendar.warn_missing_next_year(today=timezone.localdate())


@shared_task
def send_survey(survey_id: int) -> bool:
    return surveys.survey_send(survey_id=survey_id)


@shared_task
def send_portal_receipt(ticket_id: int) -> bool:
    return intake.portal_receipt_send(ticket_id=ticket_id)
