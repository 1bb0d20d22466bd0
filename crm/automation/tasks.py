from celery import shared_task
from django.utils import timezone

from crm.automation import services


@shared_task
def run_delayed_rules() -> int:
    return services.rules_run_delayed(now=timezone.now())


@shared_task
def send_failure_alerts() -> int:
    return services.failure_alerts_send(now=timezone.now())
