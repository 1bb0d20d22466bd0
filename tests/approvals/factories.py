import factory

from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_request_create
from tests.factories import UserFactory
from tests.testapp.models import Note

# Registered by the note_change fixture (tests/approvals/conftest.py).
NOTE_CHANGE = "tests.note_change"


class ApprovalRequestFactory(factory.django.DjangoModelFactory):
    """Rows for list pages; a request with a real flow goes through request_change()."""

    class Meta:
        model = ApprovalRequest

    kind = NOTE_CHANGE
    action = ApprovalRequest.Action.CHANGE
    summary = factory.Sequence(lambda n: f"request {n}")
    requester = factory.SubFactory(UserFactory)
    approver = factory.SubFactory(UserFactory)


def request_change(note: Note, requester, *, title: str = "after", **payload) -> ApprovalRequest:
    """Files a real request (through the service) to rename ``note`` to ``title``."""
    return approval_request_create(
        kind=NOTE_CHANGE,
        action=ApprovalRequest.Action.CHANGE,
        summary=f"Rename {note.title} to {title}",
        requester=requester,
        target=note,
        payload={"title": title, **payload},
        reason="typo",
    )
