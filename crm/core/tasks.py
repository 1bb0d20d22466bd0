import logging
from typing import Any

from celery import Task, shared_task

from crm.core import events, health

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> None:
    """Sends a task, but never fails the caller when the broker is down: every task sent this
    way has a beat sweep that picks up what was not sent (the outbox, pending emails)."""
    try:
        task.delay(*args)
    except Exception:  # kombu raises many kinds; none may turn a saved change into a 500
        logger.warning(
            "Broker unavailable: %s%r left for the sweep", task.name, args, exc_info=True
        )


@shared_task
def record_heartbeat() -> None:
    health.record_beat()


@shared_task
def deliver_event(event_id: int) -> None:
    events.deliver(event_id)


@shared_task
def deliver_events(event_ids: list[int]) -> None:
    for event_id in event_ids:
        events.deliver(event_id)


@shared_task
def deliver_pending_events() -> None:
    events.deliver_pending()
