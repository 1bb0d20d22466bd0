"""The inbox: only my notifications, read one or all, the navbar badge."""

import pytest
from django.urls import reverse

from crm.core.models import CompanySettings
from crm.notifications.models import Notification
from tests.notifications.factories import NotificationFactory

LIST_URL = reverse("notifications:list")
BADGE_URL = reverse("notifications:badge")
READ_ALL_URL = reverse("notifications:read_all")


def read_url(notification: Notification) -> str:
    return reverse("notifications:read", args=[notification.pk])


def listed_pks(response) -> list[int]:
    return [notification.pk for notification in response.context["page_obj"]]


@pytest.fixture
def alices(alice, bob) -> list[Notification]:
    """Three notifications for alice, newest first; the oldest is already read."""
    oldest = NotificationFactory(recipient=alice, actor=bob, title="oldest")
    oldest.read_at = oldest.created_at
    oldest.save(update_fields=["read_at"])
    middle = NotificationFactory(recipient=alice, actor=bob, title="middle")
    newest = NotificationFactory(recipient=alice, actor=None, title="newest")
    return [newest, middle, oldest]


@pytest.fixture
def bobs(bob, charlie) -> Notification:
    return NotificationFactory(recipient=bob, actor=charlie, title="bob's secret")


# The inbox


def test_the_inbox_lists_only_my_notifications(client_for, alice, alices, bobs):
    response = client_for(alice).get(LIST_URL)

    assert response.status_code == 200
    assert listed_pks(response) == [n.pk for n in alices]
    assert response.content.decode().count('data-testid="notification"') == 3
    assert "bob&#x27;s secret" not in response.content.decode()


def test_the_unread_filter_hides_what_i_have_read(client_for, alice, alices):
    newest, middle, _oldest = alices

    response = client_for(alice).get(LIST_URL, {"unread": "1"})

    assert response.status_code == 200
    assert response.context["only_unread"] is True
    assert listed_pks(response) == [newest.pk, middle.pk]


def test_the_inbox_is_paginated(client_for, alice):
    NotificationFactory.create_batch(25, recipient=alice)

    first = client_for(alice).get(LIST_URL)
    second = client_for(alice).get(LIST_URL, {"page": "2"})

    assert len(listed_pks(first)) == 20
    assert len(listed_pks(second)) == 5


@pytest.mark.parametrize("rows", [3, 25])
def test_the_inbox_query_count_does_not_grow_with_rows(
    client_for, alice, bob, rows, django_assert_num_queries
):
    NotificationFactory.create_batch(rows, recipient=alice, actor=bob)
    client = client_for(alice)
    CompanySettings.load()  # warm the cache every page reads the company from

    # 1 session, 2 user, 3 the paginator's count, 4 the user's groups (role labels in the
    # shell), 5 the navbar's unread count, 6 the page's notifications joined to their actors.
    with django_assert_num_queries(6):
        response = client.get(LIST_URL)

    assert len(listed_pks(response)) == min(rows, 20)


def test_anonymous_users_are_sent_to_sign_in(client, alices):
    login = reverse("login")
    for response in [
        client.get(LIST_URL),
        client.get(BADGE_URL),
        client.post(READ_ALL_URL),
        client.post(read_url(alices[0])),
    ]:
        assert response.status_code == 302
        assert response.url.startswith(login)
    assert Notification.objects.unread().count() == 2


# Reading one


def test_reading_a_notification_follows_its_link_on_this_site(client_for, alice, alices):
    newest = alices[0]
    newest.url = "/approvals/12/"
    newest.save(update_fields=["url"])

    response = client_for(alice).post(read_url(newest))

    assert response.status_code == 302
    assert response.url == "/approvals/12/"
    newest.refresh_from_db()
    assert newest.read_at is not None


@pytest.mark.parametrize(
    "url", ["", "https://evil.example.com/phish", "//evil.example.com/phish", "javascript:alert(1)"]
)
def test_reading_a_notification_with_no_or_a_foreign_link_goes_back_to_the_inbox(
    client_for, alice, alices, url
):
    newest = alices[0]
    newest.url = url
    newest.save(update_fields=["url"])

    response = client_for(alice).post(read_url(newest))

    assert response.status_code == 302
    assert response.url == LIST_URL
    newest.refresh_from_db()
    assert newest.is_read


def test_reading_an_already_read_notification_keeps_the_first_read_time(client_for, alice, alices):
    oldest = alices[2]
    first_read = oldest.read_at

    client_for(alice).post(read_url(oldest))

    oldest.refresh_from_db()
    assert oldest.read_at == first_read


def test_reading_needs_a_post(client_for, alice, alices):
    response = client_for(alice).get(read_url(alices[0]))

    assert response.status_code == 405
    assert not Notification.objects.get(pk=alices[0].pk).is_read


def test_charlie_gets_404_for_someone_elses_notification(client_for, charlie, bobs):
    response = client_for(charlie).post(read_url(bobs))

    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


# Reading all, and the badge


def test_mark_all_read_marks_only_mine(client_for, alice, alices, bobs):
    response = client_for(alice).post(READ_ALL_URL)

    assert response.status_code == 302
    assert response.url == LIST_URL
    assert not Notification.objects.filter(recipient=alice).unread().exists()
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_the_badge_shows_my_unread_count(client_for, alice, alices, bobs):
    response = client_for(alice).get(BADGE_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="unread-count">2<' in content
    assert "<html" not in content  # the partial, not the page


def test_the_badge_is_empty_when_all_is_read(client_for, alice, alices):
    Notification.objects.filter(recipient=alice).mark_read()

    response = client_for(alice).get(BADGE_URL)

    assert response.status_code == 200
    assert 'data-testid="unread-count"' not in response.content.decode()


def test_htmx_mark_all_read_returns_the_emptied_badge(client_for, alice, alices):
    response = client_for(alice).post(READ_ALL_URL, headers={"HX-Request": "true"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert 'data-testid="unread-count"' not in content
    assert not Notification.objects.filter(recipient=alice).unread().exists()


def test_the_page_shell_shows_my_unread_count(client_for, alice, alices, bobs):
    response = client_for(alice).get(LIST_URL)

    assert response.context["unread_count"] == 2
    assert 'data-testid="unread-count">2<' in response.content.decode()
