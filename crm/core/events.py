"""Domain events through an outbox.

A service calls ``emit()`` inside its transaction: the event row commits or rolls back with the
change it describes. After commit a Celery task delivers it to the handlers subscribed to its
name; a beat sweep delivers whatever a lost kick left pending, so a broker outage delays
automation but loses nothing. Each domain app declares its events (and the fields conditions may
use) with ``declare()`` when it is ready; the automation engine subscribes to them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise

from crm.core import bulk

if TYPE_CHECKING:
    from crm.core.models import DomainEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventType:
    name: str
    label: str | Promise
    # Fields of the event's record that rule conditions may test, with their labels.
    fields: dict[str, str | Promise] = field(default_factory=dict)
    # The record's model, "app_label.model", so that rules offer only actions that fit it.
    model: str = ""


_types: dict[str, EventType] = {}
_handlers: dict[str, list[Callable[[DomainEvent], None]]] = {}


def declare(event_type: EventType) -> None:
    _types[event_type.name] = event_type


def declared() -> list[EventType]:
    return sorted(_types.values(), key=lambda event_type: event_type.name)


ALL_EVENTS = "*"


def subscribe(name: str, handler: Callable[[DomainEvent], None]) -> None:
    """Handlers run once per delivered event and must be idempotent against their own retries.
    ``ALL_EVENTS`` subscribes to every event (the automation engine)."""
    _handlers.setdefault(name, []).append(handler)


def emit(
    name: str,
    record: models.Model,
    *,
    actor: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> DomainEvent:
    """Writes the event in the caller's transaction and kicks its delivery after commit."""
    from crm.core.models import DomainEvent
    from crm.core.tasks import deliver_event, enqueue

    if name not in _types:
        raise LookupError(f"Event {name!r} has not been declared.")
    event = DomainEvent.objects.create(
        name=name,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        actor_id=getattr(actor, "pk", None),
        payload=data or {},
    )
    transaction.on_commit(lambda: enqueue(deliver_event, event.pk))
    return event


def emit_many(
    name: str,
    records: list[models.Model],
    *,
    actor: models.Model | None = None,
    data: list[dict[str, Any]] | None = None,
) -> list[int]:
    """``emit`` for many records at once (imports): one COPY, one task per 500 events.
    Returns the events' ids."""
    from crm.core.models import DomainEvent
    from crm.core.tasks import deliver_events, enqueue

    if name not in _types:
        raise LookupError(f"Event {name!r} has not been declared.")
    if not records:
        return []
    content_type = ContentType.objects.get_for_model(records[0])
    payloads = data or [{} for _record in records]
    now = timezone.now()
    ids = bulk.insert_values(
        DomainEvent,
        [
            {
                "name": name,
                "content_type_id": content_type.pk,
                "object_id": record.pk,
                "actor_id": getattr(actor, "pk", None),
                "payload": payload,
                "created_at": now,
            }
            for record, payload in zip(records, payloads, strict=True)
        ],
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        transaction.on_commit(lambda chunk=chunk: enqueue(deliver_events, chunk))
    return ids


@transaction.atomic
def deliver(event_id: int) -> bool:
    """Runs the handlers of one pending event, in one transaction with marking it delivered.

    The row lock makes a concurrent delivery of the same event skip it; a worker that dies
    midway rolls back both its handlers' writes and the mark, so the sweep delivers it again.
    Each handler runs in a savepoint: one that fails is logged on the event, the others stand.
    """
    from crm.core.models import DomainEvent

    event = (
        DomainEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=event_id, delivered_at__isnull=True)
        .select_related("content_type")
        .first()
    )
    if event is None:
        return False
    errors = []
    for handler in [*_handlers.get(event.name, []), *_handlers.get(ALL_EVENTS, [])]:
        try:
            with transaction.atomic():
                handler(event)
        except Exception as error:  # one failing handler must not stop the others
            logger.exception("Handler %r failed for event %s", handler, event.pk)
            errors.append(f"{getattr(handler, '__name__', handler)}: {error}"[:300])
    event.delivered_at = timezone.now()
    event.error = "\n".join(errors)[:2000]
    event.save(update_fields=["delivered_at", "error"])
    return True


def deliver_pending(*, older_than_seconds: int = 30, limit: int = 500) -> int:
    """The sweep: delivers events whose after-commit kick was lost (broker down, worker died)."""
    from crm.core.models import DomainEvent

    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    pending = DomainEvent.objects.filter(delivered_at__isnull=True, created_at__lte=cutoff)
    ids = list(pending.order_by("id").values_list("id", flat=True)[:limit])
    return sum(deliver(event_id) for event_id in ids)
