"""What the public channels (portal, inbound email) share: filing the customer's own files.

Attachments record an uploader. Files that customers send come through no signed-in user, so
they are recorded as uploaded by the service-desk intake account: a built-in user that is
inactive and has no usable password, so it can never sign in.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from crm.accounts.models import User
from crm.core.attachments import attachment_add
from crm.core.models import Attachment
from tickets.models import Ticket

INTAKE_USERNAME = "service-intake"


def intake_user() -> User:
    user, created = User.objects.get_or_create(
        username=INTAKE_USERNAME,
        defaults={"is_active": False, "first_name": "客户自助"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def customer_files_attach(
    *, ticket: Ticket, uploads: Sequence[UploadedFile]
) -> tuple[list[Attachment], list[str]]:
    """Attaches the customer's files to the ticket; returns those kept and the names of those
    refused (too large, empty or of a type not accepted), so the caller can say which."""
    if not uploads:
        return [], []
    uploader = intake_user()
    kept: list[Attachment] = []
    refused: list[str] = []
    for upload in uploads:
        try:
            kept.append(attachment_add(target=ticket, upload=upload, by=uploader))
        except ValidationError:
            refused.append(upload.name or "")
    return kept, refused


def customer_files(ticket: Ticket) -> QuerySet[Attachment]:
    """The files the customer sent (portal, email): what the status page lists. Files staff
    attached to the ticket are internal and never shown there."""
    return Attachment.objects.for_object(ticket).filter(uploaded_by__username=INTAKE_USERNAME)


RECEIPT_CLAIM_SECONDS = 7 * 24 * 3600


def portal_receipt_send(*, ticket_id: int) -> bool:
    """Emails the customer their request number and private status link, once: the atomic
    cache claim keeps a repeated task from mailing it twice."""
    from django.conf import settings
    from django.core.cache import cache
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from crm.core.models import CompanySettings

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or not ticket.contact_email:
        return False
    if not cache.add(f"tickets:portal-receipt:{ticket_id}", 1, RECEIPT_CLAIM_SECONDS):
        return False
    context = {
        "ticket": ticket,
        "company": CompanySettings.load(),
        "status_url": settings.SITE_URL.rstrip("/")
        + reverse("service:status", args=[ticket.public_token]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(
            render_to_string("tickets/emails/portal_receipt-subject.txt", context).split()
        )
        text = render_to_string("tickets/emails/portal_receipt-body.txt", context)
        html = render_to_string("tickets/emails/portal_receipt-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[ticket.contact_email])
    message.attach_alternative(html, "text/html")
    message.send()
    return True
