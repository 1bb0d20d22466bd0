"""Filing, deciding and withdrawing approval requests, and who decides them."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from crm.accounts.roles import Role
from crm.approvals import registry
from crm.approvals.forms import DecisionForm
from crm.approvals.models import ApprovalRequest
from crm.approvals.registry import ApprovalKind
from crm.approvals.services import (
    approval_cancel,
    approval_decide,
    approval_request_create,
    default_approver,
)
from crm.notifications.models import Notification
from tests.approvals.factories import request_change
from tests.factories import UserFactory
from tests.testapp.models import Note

Status = ApprovalRequest.Status


def notifications(user, verb: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, verb=verb))


# Who decides


def test_the_team_head_approves_a_members_request(alice, manager, director, admin_user):
    assert default_approver(alice) == manager


def test_a_head_asking_goes_to_the_parent_teams_head(manager, director, admin_user):
    assert default_approver(manager) == director


def test_an_inactive_head_is_skipped(alice, manager, director):
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    assert default_approver(alice) == director


def test_with_no_other_head_in_the_line_an_admin_decides(manager, admin_user):
    assert default_approver(manager) == admin_user


def test_a_member_of_a_headless_line_goes_to_an_active_admin(alice):
    UserFactory(username="retired", is_superuser=True, is_active=False)  # the lowest pk
    admin = UserFactory(username="root", is_superuser=True)

    assert default_approver(alice) == admin


def test_an_admin_by_role_only_can_be_the_fallback(charlie):
    by_role = UserFactory(username="ops", role=Role.ADMIN)

    assert default_approver(charlie) == by_role


def test_an_admin_is_never_their_own_approver(note_change, admin_user):
    note = Note.objects.create(title="before", owner=admin_user)

    assert default_approver(admin_user) is None
    with pytest.raises(ValidationError):
        request_change(note, admin_user)
    assert not ApprovalRequest.objects.exists()


def test_a_kind_can_name_its_own_approver(note_change, note, alice, manager, analyst):
    registry.register(
        ApprovalKind(
            code="tests.audited", label="Audited", apply=lambda r: None, approver=lambda u: analyst
        )
    )
    try:
        request = approval_request_create(
            kind="tests.audited", action="export", summary="Export notes", requester=alice
        )
    finally:
        registry._kinds.pop("tests.audited")

    assert request.approver == analyst


# Filing


def test_filing_a_request_tells_the_approver(
    note_change, note, alice, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = request_change(note, alice)

    request.refresh_from_db()
    assert request.status == Status.PENDING
    assert (request.requester, request.approver, request.target) == (alice, manager, note)
    assert request.payload == {"title": "after"}
    [notification] = notifications(manager, "approval_requested")
    assert notification.target == request
    assert notification.actor == alice
    assert notification.url == request.get_absolute_url()
    assert "Rename before to after" in notification.title
    assert [message.to for message in mail.outbox] == [[manager.email]]
    assert note.title == "before"  # nothing changes before the decision


def test_a_second_pending_request_for_the_same_target_is_refused(pending, note, alice, bob):
    with pytest.raises(ValidationError):
        request_change(note, bob, title="other")

    assert ApprovalRequest.objects.count() == 1


def test_another_target_or_a_decided_request_does_not_block_a_new_one(
    pending, note, alice, manager
):
    other = Note.objects.create(title="other", owner=alice)
    request_change(other, alice)
    approval_decide(request=pending, by=manager, approve=False, note="no")

    again = request_change(note, alice, title="after, again")

    assert again.status == Status.PENDING
    assert ApprovalRequest.objects.pending().count() == 2


def test_an_unknown_kind_is_refused(alice, manager):
    with pytest.raises(LookupError):
        approval_request_create(kind="nope", action="change", summary="?", requester=alice)


# Deciding


def test_approving_applies_the_change_and_tells_the_requester(
    pending, note_change, note, alice, manager
):
    decided = approval_decide(request=pending, by=manager, approve=True, note="ok")

    note.refresh_from_db()
    assert note.title == "after"
    assert note_change.applied == [pending.pk]
    decided.refresh_from_db()
    assert decided.status == Status.APPROVED
    assert decided.decided_by == manager
    assert decided.decided_at is not None
    assert decided.decision_note == "ok"
    [notification] = notifications(alice, "approval_decided")
    assert (notification.actor, notification.target) == (manager, decided)
    assert notification.url == decided.get_absolute_url()


def test_a_refused_apply_changes_nothing_and_leaves_the_request_pending(
    note_change, note, alice, manager
):
    request = request_change(note, alice, refuse=True)

    with pytest.raises(ValidationError):
        approval_decide(request=request, by=manager, approve=True)

    assert note_change.applied == [request.pk]  # it ran, and was rolled back
    note.refresh_from_db()
    assert note.title == "before"
    request.refresh_from_db()
    assert request.status == Status.PENDING
    assert request.decided_by is None
    assert notifications(alice, "approval_decided") == []


def test_denying_applies_nothing_and_tells_the_requester(
    pending, note_change, note, alice, manager
):
    approval_decide(request=pending, by=manager, approve=False, note="not now")

    note.refresh_from_db()
    assert note.title == "before"
    assert note_change.applied == []
    pending.refresh_from_db()
    assert pending.status == Status.DENIED
    assert pending.decision_note == "not now"
    assert len(notifications(alice, "approval_decided")) == 1


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "analyst"])
def test_only_the_approver_or_an_admin_may_decide(request, pending, note, who):
    someone = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        approval_decide(request=pending, by=someone, approve=True)

    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    note.refresh_from_db()
    assert note.title == "before"


def test_an_admin_may_decide_for_the_approver(pending, note, admin_user):
    approval_decide(request=pending, by=admin_user, approve=True)

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (Status.APPROVED, admin_user)


def test_a_decided_request_cannot_be_decided_again(pending, note_change, manager):
    approval_decide(request=pending, by=manager, approve=True)

    with pytest.raises(PermissionDenied):
        approval_decide(request=pending, by=manager, approve=False, note="changed my mind")

    pending.refresh_from_db()
    assert pending.status == Status.APPROVED
    assert note_change.applied == [pending.pk]


def test_denying_needs_a_note_approving_does_not():
    assert not DecisionForm({"decision": "deny", "note": "  "}).is_valid()
    assert "note" in DecisionForm({"decision": "deny", "note": ""}).errors
    assert DecisionForm({"decision": "deny", "note": "too late"}).is_valid()
    assert DecisionForm({"decision": "approve", "note": ""}).is_valid()
    assert not DecisionForm({"decision": "maybe", "note": "x"}).is_valid()


# Withdrawing


def test_the_requester_can_withdraw_a_pending_request(pending, note, alice):
    approval_cancel(request=pending, by=alice)

    pending.refresh_from_db()
    assert pending.status == Status.CANCELLED
    note.refresh_from_db()
    assert note.title == "before"


def test_only_the_requester_can_withdraw(pending, manager, admin_user):
    for someone in [manager, admin_user]:
        with pytest.raises(PermissionDenied):
            approval_cancel(request=pending, by=someone)

    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_a_decided_request_cannot_be_withdrawn(pending, alice, manager):
    approval_decide(request=pending, by=manager, approve=True)

    with pytest.raises(PermissionDenied):
        approval_cancel(request=pending, by=alice)

    pending.refresh_from_db()
    assert pending.status == Status.APPROVED


# Who sees what


def test_requester_approver_and_admins_see_a_request_nobody_else(
    pending, alice, bob, charlie, manager, analyst, admin_user
):
    def sees(user) -> bool:
        return ApprovalRequest.objects.visible_to(user).filter(pk=pending.pk).exists()

    assert [sees(u) for u in (alice, manager, admin_user)] == [True, True, True]
    assert [sees(u) for u in (bob, charlie, analyst)] == [False, False, False]
    manager.is_active = False
    assert not sees(manager)


def test_an_admin_sees_every_request(pending, charlie, admin_user, note_change):
    other = Note.objects.create(title="charlie's", owner=charlie)
    request_change(other, charlie)

    assert ApprovalRequest.objects.visible_to(admin_user).count() == 2
