"""``notify()``: the one way anything in the CRM tells a person something."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import models, transaction
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import timezone, translation

from crm.accounts.models import User
from crm.core import bulk
from crm.core.models import CompanySettings
from crm.notifications.models import Notification


def _render_text(template_name: str, context: dict[str, Any]) -> str:
    # Plain text, not HTML: autoescaping would store "R&amp;D" in titles and emails, and the
    # inbox would escape it a second time.
    template = Engine.get_default().get_template(template_name)
    return template.render(Context(context, autoescape=False))


def _render(verb: str, context: dict[str, Any]) -> tuple[str, str]:
    subject = _render_text(f"emails/{verb}-subject.txt", context)
    body = _render_text(f"emails/{verb}-body.txt", context)
    return " ".join(subject.split()), body.strip()


@dataclass(frozen=True)
class Message:
    """One call's worth of ``notify()``, for ``notify_many()``: a verb about a target, to some
    people. ``read_at`` files the inbox rows as read (the recipient turned the inbox off: the
    row stays, the email is sent from it, but it neither counts nor nags)."""

    recipients: Iterable[User | None]
    verb: str
    target: models.Model | None = None
    actor: User | None = None
    url: str = ""
    context: dict[str, Any] | None = None
    email: bool = True
    text: tuple[str, str] | None = None
    read_at: datetime.datetime | None = None


@transaction.atomic
def notify(
    recipients: Iterable[User | None],
    verb: str,
    target: models.Model | None = None,
    *,
    actor: User | None = None,
    url: str = "",
    context: dict[str, Any] | None = None,
    email: bool = True,
    text: tuple[str, str] | None = None,
) -> list[Notification]:
    """Puts a message in each recipient's inbox and, if ``email``, mails it after commit.

    The text comes from ``templates/emails/<verb>-subject.txt`` and ``-body.txt``, rendered
    in each recipient's language (the email wraps it in ``notification-body``) with
    ``target``, ``actor``,
    ``recipient``, ``url`` and ``context`` available. Inactive recipients, duplicates and
    ``None`` are skipped, so callers can pass "the owner and their manager" without checks.
    ``text`` gives the title and body ready-made instead (templates edited in admin).
    """
    message = Message(
        recipients=recipients,
        verb=verb,
        target=target,
        actor=actor,
        url=url,
        context=context,
        email=email,
        text=text,
    )
    return notify_many([message])


EMAILS_PER_TASK = 500


@transaction.atomic
def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """``notify()`` for many messages at once (the sweeps): every inbox row in one insert, and
    after commit one email task per 500 notifications instead of one each."""
    from crm.core.tasks import enqueue
    from crm.notifications.tasks import send_notification_emails

    company = CompanySettings.load()
    created = []
    for message in messages:
        created.extend(_notifications(message, company))
    if not created:
        return created
    bulk.create_all(created)
    emails = [notification.pk for notification in created if notification.email_wanted]
    for start in range(0, len(emails), EMAILS_PER_TASK):
        chunk = emails[start : start + EMAILS_PER_TASK]
        transaction.on_commit(partial(enqueue, send_notification_emails, chunk))
    return created


def _notifications(message: Message, company: CompanySettings) -> list[Notification]:
    unique: dict[int, User] = {}
    for user in message.recipients:
        if user is not None and user.is_active and user.pk not in unique:
            unique[user.pk] = user
    target = message.target
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    created = []
    for user in unique.values():
        if message.text is not None:
            title, body = message.text
        else:
            full_context = {
                **(message.context or {}),
                "target": target,
                "actor": message.actor,
                "recipient": user,
                "url": message.url,
                "site_url": settings.SITE_URL,
                "company": company,
            }
            with translation.override(user.language or settings.LANGUAGE_CODE):
                title, body = _render(message.verb, full_context)
        created.append(
            Notification(
                recipient=user,
                verb=message.verb,
                title=title[:300],
                body=body,
                url=message.url,
                actor=message.actor,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                email_wanted=message.email and bool(user.email),
                read_at=message.read_at,
            )
        )
    return created


def notification_send_email(
    *, notification_id: int, connection: BaseEmailBackend | None = None
) -> bool:
    """Mails one notification once; a retried or duplicated task sends nothing twice.
    ``connection`` is an open mail connection to reuse (a batch of emails)."""
    claimed = Notification.objects.filter(
        pk=notification_id, email_wanted=True, emailed_at__isnull=True
    ).update(emailed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    user = notification.recipient
    context = {
        "notification": notification,
        "recipient": user,
        "site_url": settings.SITE_URL,
        "company": CompanySettings.load(),
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = _render_text("emails/notification-body.txt", context)
        html = render_to_string("emails/notification-body.html", context)
    message = EmailMultiAlternatives(
        subject=notification.title, body=text, to=[user.email], connection=connection
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        # Give the claim back so the retry can send it.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


def notifications_send_emails(*, notification_ids: list[int]) -> int:
    """Mails each notification once, over one mail connection. The first failure stops the
    batch (its claim given back) and is raised, so the task's retry sends the rest; what was
    sent already is skipped then."""
    with get_connection() as connection:
        return sum(
            notification_send_email(notification_id=pk, connection=connection)
            for pk in notification_ids
        )


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def notifications_send_pending_emails(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """The sweep for emails whose after-commit task never reached the broker."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(
            email_wanted=True, emailed_at__isnull=True, created_at__lte=cutoff
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(notification_send_email(notification_id=pk) for pk in ids)
