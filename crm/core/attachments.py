"""Attachments: checked on the way in (size, type by content), served through a permission check."""

import codecs
import hashlib
import secrets

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from crm.core.models import Attachment

# Types recognised from the file's own bytes, never from its name.
ALLOWED_MIME_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/zip",  # Office Open XML (docx, xlsx, pptx) are zip files
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/x-ole-storage",  # legacy doc/xls
    "application/msword",
    "application/vnd.ms-excel",
    "audio/mpeg",
    "audio/x-wav",
    "audio/mp4",
    "video/mp4",
}
TEXT_SNIFF_BYTES = 8192


def sniff_mime_type(head: bytes) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    # Plain text has no signature: accept UTF-8 (or GB18030) without control bytes.
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            # Not final: the head of a longer file may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return "text/plain"
    return None


def validate_upload(upload: UploadedFile) -> str:
    """Raises ValidationError unless the upload is small enough and of an allowed kind.

    Returns the MIME type found from the content.
    """
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(limit)s."),
            code="too_large",
            params={"limit": filesizeformat(limit)},
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(TEXT_SNIFF_BYTES)
    upload.seek(0)
    mime = sniff_mime_type(head)
    if mime is None or (mime != "text/plain" and mime not in ALLOWED_MIME_TYPES):
        raise ValidationError(
            _(
                "This type of file is not accepted. Upload a PDF, an image, an Office document, "
                "a text file, audio or video."
            ),
            code="bad_type",
        )
    return mime


def clean_file_name(name: str) -> str:
    """The user's file name without any directory part, for display and download only."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return (base or "file")[:200]


def attachment_add(*, target: models.Model, upload: UploadedFile, by: models.Model) -> Attachment:
    mime = validate_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        token=secrets.token_urlsafe(32),
        original_name=clean_file_name(upload.name or "file"),
        mime_type=mime,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=by,
    )
    attachment.file.save(attachment.token, upload, save=False)
    attachment.save()
    return attachment
