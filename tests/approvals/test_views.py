"""The approvals pages: the tabs, a request's page and its decision form, withdrawing."""

import pytest
from django.urls import reverse

from crm.approvals.models import ApprovalRequest
from crm.core.models import CompanySettings
from tests.approvals.factories import ApprovalRequestFactory, request_change

Status = ApprovalRequest.Status
LIST_URL = reverse("approvals:list")


def detail_url(request: ApprovalRequest) -> str:
    return reverse("approvals:detail", args=[request.pk])


def withdraw_url(request: ApprovalRequest) -> str:
    return reverse("approvals:withdraw", args=[request.pk])


def listed_pks(response) -> list[int]:
    return [approval.pk for approval in response.context["page_obj"]]


def status_of(request: ApprovalRequest) -> str:
    return ApprovalRequest.objects.get(pk=request.pk).status


# The list and its tabs


@pytest.fixture
def requests(note_change, alice, bob, manager, director):
    """alice → manager: one pending, one denied; manager → director: one pending."""
    denied = ApprovalRequestFactory(
        requester=alice, approver=manager, status=Status.DENIED, decided_by=manager
    )
    waiting = ApprovalRequestFactory(requester=alice, approver=manager)
    upward = ApprovalRequestFactory(requester=manager, approver=director)
    return {"denied": denied, "waiting": waiting, "upward": upward}


@pytest.mark.parametrize(
    ("who", "tab", "expected"),
    [
        ("manager", "to_decide", ["waiting"]),
        ("manager", "decided", ["denied"]),
        ("manager", "mine", ["upward"]),
        ("alice", "mine", ["waiting", "denied"]),
        ("alice", "to_decide", []),
        ("director", "to_decide", ["upward"]),
        ("bob", "mine", []),
        ("manager", "bogus", ["waiting"]),  # an unknown tab falls back to to_decide
    ],
)
def test_each_tab_lists_its_requests(request, client_for, requests, who, tab, expected):
    response = client_for(request.getfixturevalue(who)).get(LIST_URL, {"tab": tab})

    assert response.status_code == 200
    assert listed_pks(response) == [requests[name].pk for name in expected]
    assert response.content.decode().count('data-testid="approval-row"') == len(expected)


def test_the_default_tab_is_what_waits_for_my_decision(client_for, manager, requests):
    response = client_for(manager).get(LIST_URL)

    assert response.context["tab"] == "to_decide"
    assert listed_pks(response) == [requests["waiting"].pk]


@pytest.mark.parametrize("tab", ["to_decide", "mine", "decided"])
@pytest.mark.parametrize("rows", [3, 25])
def test_the_list_query_count_does_not_grow_with_rows(
    client_for, note_change, alice, manager, tab, rows, django_assert_num_queries
):
    ApprovalRequestFactory.create_batch(rows, requester=manager, approver=alice)
    ApprovalRequestFactory.create_batch(
        rows, requester=manager, approver=alice, status=Status.APPROVED, decided_by=alice
    )
    ApprovalRequestFactory.create_batch(rows, requester=alice, approver=manager)
    client = client_for(alice)
    CompanySettings.load()  # warm the cache every page reads the company from

    # 1 session, 2 user, 3 the user's groups (visible_to checks for the admin role; the shell
    # reuses them), 4 the paginator's count, 5 the navbar's unread count, 6 the page's
    # requests joined to their requester and approver.
    with django_assert_num_queries(6):
        response = client.get(LIST_URL, {"tab": tab})

    assert len(listed_pks(response)) == min(rows, 20)


def test_anonymous_users_are_sent_to_sign_in(client, pending):
    login = reverse("login")
    for response in [
        client.get(LIST_URL),
        client.get(detail_url(pending)),
        client.post(detail_url(pending), {"decision": "approve"}),
        client.post(withdraw_url(pending)),
    ]:
        assert response.status_code == 302
        assert response.url.startswith(login)
    assert status_of(pending) == Status.PENDING


# A request's page


@pytest.mark.parametrize(
    ("who", "can_decide"), [("alice", False), ("manager", True), ("admin_user", True)]
)
def test_requester_approver_and_admin_see_the_request(
    request, client_for, pending, who, can_decide
):
    response = client_for(request.getfixturevalue(who)).get(detail_url(pending))

    assert response.status_code == 200
    assert response.context["approval"] == pending
    assert response.context["can_decide"] is can_decide
    assert 'data-testid="approval-status"' in response.content.decode()


@pytest.mark.parametrize("who", ["charlie", "bob", "analyst"])
def test_charlie_and_other_outsiders_get_404(request, client_for, pending, note, who):
    client = client_for(request.getfixturevalue(who))

    assert client.get(detail_url(pending)).status_code == 404
    assert client.post(detail_url(pending), {"decision": "approve"}).status_code == 404
    assert client.post(withdraw_url(pending)).status_code == 404
    assert status_of(pending) == Status.PENDING
    note.refresh_from_db()
    assert note.title == "before"


# Deciding through the page


def test_the_approver_approves_and_the_change_is_applied(client_for, pending, note, alice, manager):
    response = client_for(manager).post(detail_url(pending), {"decision": "approve", "note": ""})

    assert response.status_code == 302
    assert response.url == detail_url(pending)
    assert status_of(pending) == Status.APPROVED
    note.refresh_from_db()
    assert note.title == "after"
    assert alice.notifications.filter(verb="approval_decided").count() == 1


def test_denying_without_a_note_is_refused_by_the_form(client_for, pending, manager):
    response = client_for(manager).post(detail_url(pending), {"decision": "deny", "note": " "})

    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    assert status_of(pending) == Status.PENDING


def test_denying_with_a_note_records_it(client_for, pending, note, manager):
    response = client_for(manager).post(
        detail_url(pending), {"decision": "deny", "note": "wrong customer"}
    )

    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == (Status.DENIED, "wrong customer")
    note.refresh_from_db()
    assert note.title == "before"


def test_a_refused_change_shows_the_error_and_stays_pending(
    client_for, note_change, note, alice, manager
):
    refused = request_change(note, alice, refuse=True)

    response = client_for(manager).post(detail_url(refused), {"decision": "approve"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert status_of(refused) == Status.PENDING
    note.refresh_from_db()
    assert note.title == "before"


def test_the_requester_cannot_approve_their_own_request(client_for, pending, note, alice):
    response = client_for(alice).post(detail_url(pending), {"decision": "approve"})

    assert response.status_code == 403
    assert status_of(pending) == Status.PENDING
    note.refresh_from_db()
    assert note.title == "before"


def test_a_decided_request_cannot_be_decided_again(client_for, pending, manager):
    client = client_for(manager)
    client.post(detail_url(pending), {"decision": "deny", "note": "no"})

    response = client.post(detail_url(pending), {"decision": "approve"})

    assert response.status_code == 403
    assert status_of(pending) == Status.DENIED
    assert client.get(detail_url(pending)).context["can_decide"] is False


# Withdrawing


def test_the_requester_withdraws_a_pending_request(client_for, pending, alice):
    response = client_for(alice).post(withdraw_url(pending))

    assert response.status_code == 302
    assert response.url == detail_url(pending)
    assert status_of(pending) == Status.CANCELLED


def test_the_approver_cannot_withdraw_it(client_for, pending, manager):
    response = client_for(manager).post(withdraw_url(pending))

    assert response.status_code == 302
    assert response.url == detail_url(pending)
    assert status_of(pending) == Status.PENDING


def test_withdrawing_needs_a_post(client_for, pending, alice):
    assert client_for(alice).get(withdraw_url(pending)).status_code == 405
    assert status_of(pending) == Status.PENDING
