"""The platform's catch-up sweeps run by two workers at once: the outbox sweep delivers each
pending event to its handlers once, and the pending-email sweep mails each notification once.
Real threads and transactions against Postgres."""

import datetime
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.utils import timezone

from crm.core import events
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from crm.notifications.services import notifications_send_pending_emails
from tests.concurrency import at_once, needs_postgres
from tests.testapp.models import Note

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PENDING = 20
events.declare(events.EventType("note.swept", "Note swept", {"title": "title"}))


@pytest.fixture
def handled():
    """Calls of a handler that, unlike the real ones, has no idempotency of its own: only the
    outbox's claim can keep it from running twice."""
    calls: list[int] = []

    def handler(event: DomainEvent) -> None:
        calls.append(event.pk)

    events.subscribe("note.swept", handler)
    yield calls
    events._handlers["note.swept"].remove(handler)


def test_two_outbox_sweeps_deliver_each_pending_event_once(alice, handled):
    # Events whose after-commit kick was lost (the broker was down), a while ago.
    note = Note.objects.create(title="待投递", owner=alice)
    pending = DomainEvent.objects.bulk_create(
        DomainEvent(
            name="note.swept",
            content_type=ContentType.objects.get_for_model(Note),
            object_id=note.pk,
            created_at=timezone.now() - datetime.timedelta(minutes=5),
        )
        for _ in range(PENDING)
    )

    delivered = at_once(events.deliver_pending)

    assert sum(delivered) == PENDING
    assert Counter(handled) == {event.pk: 1 for event in pending}
    assert not DomainEvent.objects.filter(delivered_at__isnull=True).exists()


def test_two_email_sweeps_mail_each_notification_once(alice, bob):
    # Inbox rows whose email task never reached the broker.
    waiting = Notification.objects.bulk_create(
        Notification(
            recipient=(alice, bob)[index % 2],
            verb="approval_decided",
            title=f"待发邮件{index}",
            body="正文",
            email_wanted=True,
            created_at=timezone.now() - datetime.timedelta(minutes=5),
        )
        for index in range(PENDING)
    )
    mail.outbox.clear()

    sent = at_once(notifications_send_pending_emails)

    assert sum(sent) == PENDING
    assert sorted(message.subject for message in mail.outbox) == sorted(
        notification.title for notification in waiting
    )
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
