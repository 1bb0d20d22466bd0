"""The visibility contract at each level, on a minimal owned model (tests.testapp.Note)."""

import pytest
from django.http import Http404

from crm.core.visibility import get_visible_or_404
from tests.testapp.models import Note


@pytest.fixture
def notes(alice, bob, charlie, agent):
    return {
        "alice": Note.objects.create(title="alice's", owner=alice),
        "bob": Note.objects.create(title="bob's", owner=bob),
        "charlie": Note.objects.create(title="charlie's", owner=charlie),
        "agent": Note.objects.create(title="agent's", owner=agent),
    }


def titles(user) -> set[str]:
    return set(Note.objects.visible_to(user).values_list("title", flat=True))


def test_a_rep_sees_only_their_own(alice, notes):
    assert titles(alice) == {"alice's"}


def test_a_rep_sees_what_is_shared_with_them_once(alice, bob, charlie, notes):
    notes["charlie"].shared_with.add(alice, bob)
    notes["alice"].shared_with.add(bob)

    assert titles(alice) == {"alice's", "charlie's"}
    assert Note.objects.visible_to(alice).count() == 2


def test_a_manager_sees_their_team_subtree_not_other_teams(manager, notes, team_a):
    sub_team = team_a.children.create(name="销售一组-A")
    nested = Note.objects.create(
        title="nested",
        owner=notes["alice"].owner.__class__.objects.create(username="dave", team=sub_team),
    )

    assert titles(manager) == {"alice's", "bob's", nested.title}


def test_a_team_head_without_the_manager_role_sees_the_team(alice, bob, team_a, notes):
    team_a.head = alice
    team_a.save()

    assert titles(alice) == {"alice's", "bob's"}


def test_a_supervisor_sees_their_department(supervisor, notes):
    assert titles(supervisor) == {"agent's"}


def test_analysts_and_admins_see_everything(analyst, admin_user, notes):
    assert titles(analyst) == titles(admin_user) == {n.title for n in notes.values()}


def test_anonymous_and_inactive_users_see_nothing(alice, notes):
    from django.contrib.auth.models import AnonymousUser

    assert titles(AnonymousUser()) == set()
    alice.is_active = False
    assert titles(alice) == set()


def test_charlie_gets_404_for_alices_record(charlie, notes):
    with pytest.raises(Http404):
        get_visible_or_404(Note, charlie, pk=notes["alice"].pk)
    assert get_visible_or_404(Note, notes["alice"].owner, pk=notes["alice"].pk) == notes["alice"]
