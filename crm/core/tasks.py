from celery import shared_task

from crm.core import health


@shared_task
def record_heartbeat() -> None:
    health.record_beat()
