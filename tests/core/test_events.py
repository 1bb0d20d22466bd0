import pytest

from crm.core import events
from crm.core.models import DomainEvent
from tests.testapp.models import Note

events.declare(events.EventType("note.created", "Note created", {"title": "title"}))


@pytest.fixture
def handled():
    calls: list[int] = []

    def handler(event: DomainEvent) -> None:
        calls.append(event.object_id)
        Note.objects.filter(pk=event.object_id).update(title="handled")

    events.subscribe("note.created", handler)
    yield calls
    events._handlers["note.created"].remove(handler)


def test_an_event_is_written_with_the_change_and_delivered_after_commit(
    alice, handled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = Note.objects.create(title="new", owner=alice)
        event = events.emit("note.created", note, actor=alice, data={"source": "test"})
        assert handled == []  # nothing runs before commit

    event.refresh_from_db()
    assert handled == [note.pk]
    assert event.delivered_at is not None
    assert event.payload == {"source": "test"}
    note.refresh_from_db()
    assert note.title == "handled"


def test_delivering_twice_runs_the_handlers_once(alice, handled):
    note = Note.objects.create(title="new", owner=alice)
    event = events.emit("note.created", note)
    assert events.deliver(event.pk) is True
    assert events.deliver(event.pk) is False
    assert handled == [note.pk]


def test_the_sweep_delivers_what_a_lost_kick_left_pending(alice, handled):
    note = Note.objects.create(title="new", owner=alice)
    event = events.emit("note.created", note)  # on_commit never fires in this test
    assert events.deliver_pending(older_than_seconds=0) == 1
    assert events.deliver_pending(older_than_seconds=0) == 0
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert handled == [note.pk]


def test_a_failing_handler_is_recorded_and_does_not_stop_the_others(alice, handled):
    def broken(event: DomainEvent) -> None:
        raise RuntimeError("boom")

    events._handlers["note.created"].insert(0, broken)
    try:
        note = Note.objects.create(title="new", owner=alice)
        event = events.emit("note.created", note)
        events.deliver(event.pk)
    finally:
        events._handlers["note.created"].remove(broken)
    event.refresh_from_db()
    assert "boom" in event.error
    assert handled == [note.pk]


def test_undeclared_events_are_refused(alice):
    note = Note.objects.create(title="new", owner=alice)
    with pytest.raises(LookupError):
        events.emit("note.exploded", note)
