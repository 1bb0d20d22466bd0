"""A test approval kind on tests.testapp.Note: approving renames the note."""

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import ValidationError

from crm.approvals import registry
from crm.approvals.models import ApprovalRequest
from crm.approvals.registry import ApprovalKind
from tests.approvals.factories import NOTE_CHANGE, request_change
from tests.factories import UserFactory
from tests.testapp.models import Note


@dataclass
class NoteChangeKind:
    """What the registered kind did: the requests it applied, in order."""

    applied: list[int] = field(default_factory=list)

    def apply(self, request: ApprovalRequest) -> None:
        note = Note.objects.get(pk=request.target_id)
        note.title = request.payload["title"]
        note.save(update_fields=["title"])
        self.applied.append(request.pk)
        # Refusing after the change: approval_decide must roll the rename back.
        if request.payload.get("refuse"):
            raise ValidationError("The note is locked.")


@pytest.fixture
def note_change(db):
    kind = NoteChangeKind()
    registry.register(ApprovalKind(code=NOTE_CHANGE, label="Note change", apply=kind.apply))
    yield kind
    registry._kinds.pop(NOTE_CHANGE, None)


@pytest.fixture
def note(alice) -> Note:
    return Note.objects.create(title="before", owner=alice)


@pytest.fixture
def director(sales_department):
    """Head of the sales department, above the manager's team."""
    user = UserFactory(username="director", team=sales_department)
    sales_department.head = user
    sales_department.save(update_fields=["head"])
    return user


@pytest.fixture
def pending(note_change, note, alice, manager) -> ApprovalRequest:
    """Alice asks to rename her note; manager, her team head, decides."""
    return request_change(note, alice)
