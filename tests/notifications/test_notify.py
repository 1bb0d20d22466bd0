"""notify(): who gets a message, what it says, and the email that follows it once."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from crm.core.models import CompanySettings
from crm.notifications import services
from crm.notifications.models import Notification
from crm.notifications.services import notify
from crm.notifications.tasks import send_notification_email, send_notification_emails
from tests.factories import UserFactory
from tests.testapp.models import Note

pytestmark = pytest.mark.usefixtures("email_templates")


@pytest.fixture
def note(alice) -> Note:
    return Note.objects.create(title="Q3 plan", owner=alice)


def ping(recipients, **kwargs) -> list[Notification]:
    """notify() with the test-only verb, whose templates show the language and the context."""
    return notify(recipients, "test_ping", **kwargs)


# Recipients


def test_it_creates_one_notification_per_distinct_active_recipient(alice, bob, charlie):
    inactive = UserFactory(username="gone", is_active=False)

    created = ping([alice, None, bob, alice, inactive, bob, charlie], email=False)

    assert [n.recipient for n in created] == [alice, bob, charlie]
    assert Notification.objects.filter(verb="test_ping").count() == 3
    assert not Notification.objects.filter(recipient=inactive).exists()


def test_nobody_to_tell_creates_nothing(db):
    assert ping([None]) == []
    assert not Notification.objects.exists()


# Rendering


def test_it_renders_title_and_body_from_the_verbs_templates(alice, bob, note):
    [notification] = ping(
        [alice], target=note, actor=bob, url="/notes/1/", context={"extra": "42"}, email=False
    )

    notification.refresh_from_db()
    # The subject template spans two lines: the title is one line with single spaces.
    assert notification.title == "[zh-hans] bob pinged alice"
    assert notification.body.splitlines() == [
        "lang=zh-hans",
        "target=Q3 plan",
        "url=/notes/1/",
        "extra=42",
    ]
    assert notification.verb == "test_ping"
    assert notification.url == "/notes/1/"
    assert notification.actor == bob
    assert notification.target == note
    assert notification.target_type == ContentType.objects.get_for_model(Note)
    assert notification.read_at is None


def test_it_renders_in_each_recipients_language(alice, bob):
    alice.language = "en"
    alice.save(update_fields=["language"])
    bob.language = "zh-hans"
    bob.save(update_fields=["language"])

    by_user = {n.recipient: n for n in ping([alice, bob], email=False)}

    assert by_user[alice].title.startswith("[en] ")
    assert "lang=en" in by_user[alice].body
    assert by_user[bob].title.startswith("[zh-hans] ")
    assert "lang=zh-hans" in by_user[bob].body


def test_titles_bodies_and_text_emails_are_plain_text_not_html_escaped(alice, bob):
    """The inbox template escapes once, when it shows them; the text email not at all."""
    note = Note.objects.create(title="R&D <budget> 'draft'", owner=alice)

    [notification] = ping([alice], target=note, actor=bob)
    services.notification_send_email(notification_id=notification.pk)

    assert "target=R&D <budget> 'draft'" in notification.body
    [message] = mail.outbox
    assert "target=R&D <budget> 'draft'" in message.body
    [(html, _mimetype)] = message.alternatives
    assert "R&amp;D &lt;budget&gt;" in html


# Email


def test_it_emails_once_after_commit_with_text_and_html_parts(
    alice, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [notification] = ping([alice], actor=bob, url="/approvals/7/")
        assert mail.outbox == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert message.subject == notification.title
    assert notification.title in message.body
    assert f"{settings.SITE_URL}/approvals/7/" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert notification.title in html
    assert f'href="{settings.SITE_URL}/approvals/7/"' in html
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_a_rolled_back_notify_sends_nothing(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ping([alice])

    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "address"), [(False, "alice@example.com"), (True, ""), (False, "")]
)
def test_no_email_is_sent_when_not_wanted_or_no_address(
    alice, email, address, django_capture_on_commit_callbacks
):
    alice.email = address
    alice.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [notification] = ping([alice], email=email)

    assert callbacks == []
    assert mail.outbox == []
    assert notification.email_wanted is False
    assert services.notification_send_email(notification_id=notification.pk) is False
    assert mail.outbox == []


def test_sending_the_same_notification_twice_sends_one_mail(alice):
    # Without executing on-commit callbacks the email is wanted but not yet sent.
    [notification] = ping([alice])

    assert services.notification_send_email(notification_id=notification.pk) is True
    assert services.notification_send_email(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_a_duplicated_task_sends_one_mail(alice):
    [notification] = ping([alice])

    send_notification_email.delay(notification.pk)
    send_notification_email.delay(notification.pk)

    assert len(mail.outbox) == 1


def test_a_failing_smtp_send_releases_the_claim_so_a_retry_can_send(alice):
    [notification] = ping([alice])

    with (
        mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("SMTP is down")),
        pytest.raises(OSError, match="SMTP is down"),
    ):
        services.notification_send_email(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.emailed_at is None
    assert mail.outbox == []

    assert services.notification_send_email(notification_id=notification.pk) is True
    assert len(mail.outbox) == 1


def test_the_task_retries_a_failed_send_and_mails_once(alice):
    [notification] = ping([alice])
    attempts = []
    real_send = EmailBackend.send_messages

    def flaky_send(backend, messages):
        attempts.append(len(messages))
        if len(attempts) == 1:
            raise OSError("connection reset")
        return real_send(backend, messages)

    # Eager Celery runs the autoretry at once in this thread; throw=False stops the test
    # settings' eager propagation from raising the Retry instead of running it.
    with mock.patch.object(EmailBackend, "send_messages", flaky_send):
        result = send_notification_email.apply(args=[notification.pk], throw=False)

    assert result.successful()
    assert attempts == [1, 1]
    assert len(mail.outbox) == 1


# Many at once (the sweeps)


def test_notify_many_writes_every_message_in_each_recipients_language_at_once(
    alice, bob, note, django_assert_num_queries, django_capture_on_commit_callbacks
):
    alice.language = "en"
    alice.save(update_fields=["language"])
    messages = [
        services.Message(recipients=[alice, bob], verb="test_ping", target=note, url="/a/"),
        services.Message(recipients=[bob, None], verb="test_ping", email=False),
        services.Message(recipients=[alice], verb="test_ping", read_at=timezone.now()),
    ]

    CompanySettings.load()
    ContentType.objects.get_for_model(Note)
    # savepoint, the rows' ids from the sequence (then the rows by COPY, not a query; SQLite:
    # one insert), release: however many messages and recipients
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        django_assert_num_queries(3),
    ):
        created = services.notify_many(messages)

    assert [(n.recipient, n.title[:4]) for n in created] == [
        (alice, "[en]"),
        (bob, "[zh-"),
        (bob, "[zh-"),
        (alice, "[en]"),
    ]
    assert Notification.objects.count() == 4
    assert [n.read_at is not None for n in created] == [False, False, False, True]
    assert len(callbacks) == 1  # one email task for the three emails wanted
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [alice.email, bob.email, alice.email]
    )


def test_a_batch_of_emails_stops_at_a_failure_and_its_retry_sends_the_rest_once(alice, bob):
    notifications = ping([alice, bob]) + ping([alice])
    ids = [notification.pk for notification in notifications]
    sent = []
    real_send = EmailBackend.send_messages

    def send_once_then_fail(backend, messages):
        sent.append(messages[0].to)
        if len(sent) == 2:
            raise OSError("connection reset")
        return real_send(backend, messages)

    with mock.patch.object(EmailBackend, "send_messages", send_once_then_fail):
        result = send_notification_emails.apply(args=[ids], throw=False)

    assert result.successful()
    assert len(mail.outbox) == 3
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [alice.email, bob.email, alice.email]
    )
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
