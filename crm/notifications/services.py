"""``notify()``: the one way anything in the CRM tells a person something."""

import datetime
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import timezone, translation

from crm.accounts.models import User
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
    from crm.core.tasks import enqueue
    from crm.notifications.tasks import send_notification_email

    unique: dict[int, User] = {}
    for user in recipients:
        if user is not None and user.is_active and user.pk not in unique:
            unique[user.pk] = user
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    company = CompanySettings.load()
    created = []
    for user in unique.values():
        full_context = {
            **(context or {}),
            "target": target,
            "actor": actor,
            "recipient": user,
            "url": url,
            "site_url": settings.SITE_URL,
            "company": company,
        }
        if text is not None:
            title, body = text
        else:
            with translation.override(user.language or settings.LANGUAGE_CODE):
                title, body = _render(verb, full_context)
        created.append(
            Notification(
                recipient=user,
                verb=verb,
                title=title[:300],
                body=body,
                url=url,
                actor=actor,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                email_wanted=email and bool(user.email),
            )
        )
    Notification.objects.bulk_create(created)
    for notification in created:
        if notification.email_wanted:
            transaction.on_commit(partial(enqueue, send_notification_email, notification.pk))
    return created


def notification_send_email(*, notification_id: int) -> bool:
    """Mails one notification once; a retried or duplicated task sends nothing twice."""
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
    message = EmailMultiAlternatives(subject=notification.title, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        # Give the claim back so the retry can send it.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


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
