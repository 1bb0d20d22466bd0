from celery import shared_task

from crm.core import events, health


@shared_task
def record_heartbeat() -> None:
    health.record_beat()


@shared_task
def deliver_event(event_id: int) -> None:
    events.deliver(event_id)


@shared_task
def deliver_pending_events() -> None:
    events.deliver_pending()
