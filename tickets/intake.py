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
