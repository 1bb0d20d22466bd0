"""Inbound email (邮件工单): mail to the service mailbox becomes a ticket, or a message on the
ticket whose number (GW…) its subject carries.

Three layers, each testable alone: ``parse_message`` turns RFC 822 bytes into an
``InboundMessage`` (stdlib ``email``; Chinese mail arrives in GB2312, GBK or UTF-8), the service
``inbound_message_process`` records it once per Message-ID and files it through the ticket
services, and ``mailbox_fetch`` reads a mailbox over IMAP (stdlib ``imaplib``) for the beat task.
"""

from __future__ import annotations

import datetime
import email
import email.utils
import hashlib
import html
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from customers.models import Contact
from tickets.intake import customer_files_attach
from tickets.models import InboundEmail, Mailbox, Ticket, TicketMessage
from tickets.services import ticket_create, ticket_message_add

logger = logging.getLogger(__name__)

TICKET_NUMBER = re.compile(r"\bGW\d{11}\b")
# Mail clients label GBK text as GB2312 (a subset); GB18030 decodes both and more.
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
MAX_BODY_CHARS = 20000
FETCH_BATCH = 50


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    from_name: str
    from_email: str
    subject: str
    body: str
    sent_at: datetime.datetime | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    is_automatic: bool = False

    @property
    def ticket_number(self) -> str | None:
        """The ticket number the subject names (a reply to our mail keeps it there)."""
        match = TICKET_NUMBER.search(self.subject)
        return match.group(0) if match else None


def _charset(name: str | None) -> str:
    name = (name or "utf-8").strip().strip('"').lower()
    return CHARSET_ALIASES.get(name, name)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(_charset(charset), errors="replace")
    except LookupError:  # an unknown charset name: assume UTF-8, keep what can be read
        return data.decode("utf-8", errors="replace")


def decode_header_value(value: str | None) -> str:
    """An RFC 2047 header (``=?GB2312?B?...?=``) as text, whatever charset it claims."""
    if not value:
        return ""
    parts = []
    for chunk, charset in decode_header(str(value)):
        if isinstance(chunk, bytes):
            parts.append(_decode_bytes(chunk, charset or "ascii"))
        else:
            parts.append(chunk)
    text = "".join(parts)
    return " ".join(text.split())


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset())


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", markup)
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    text = html.unescape(strip_tags(markup)).replace("\xa0", " ")
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _filename(part: Message) -> str:
    # get_filename() follows RFC 2231 (filename*=UTF-8''...); RFC 2047 words are decoded after.
    name = part.get_filename() or part.get_param("name") or ""
    if isinstance(name, tuple):  # an RFC 2231 value get_param leaves undecoded
        name = email.utils.collapse_rfc2231_value(name)
    return decode_header_value(str(name))


def _is_automatic(message: Message) -> bool:
    """Auto-replies and bulk mail (out-of-office, bounces) must not open tickets or loop."""
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    return auto != "no" or precedence in {"bulk", "junk", "auto_reply", "list"}


def parse_message(raw: bytes) -> InboundMessage:
    """Reads one RFC 822 message: sender, subject, the text body (plain preferred, else HTML
    turned to text) and attachments."""
    message = email.message_from_bytes(raw)
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[InboundAttachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        content_type = part.get_content_type()
        if (
            disposition == "attachment"
            or (disposition == "inline" and part.get_filename())
            or content_type not in {"text/plain", "text/html"}
        ):
            content = part.get_payload(decode=True)
            if isinstance(content, bytes) and content:
                attachments.append(
                    InboundAttachment(
                        filename=_filename(part) or "attachment",
                        content_type=content_type,
                        content=content,
                    )
                )
            continue
        (plain if content_type == "text/plain" else markup).append(_part_text(part))
    body = "\n\n".join(text.strip() for text in plain if text.strip())
    if not body:
        body = "\n\n".join(_html_to_text(text) for text in markup)
    from_name, from_email = email.utils.parseaddr(message.get("From", ""))
    message_id = (message.get("Message-ID") or "").strip()
    if not message_id:
        # Some senders omit it; the content's digest still makes a redelivery recognisable.
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()}@inbound>"
    sent_at = None
    if message.get("Date"):
        try:
            sent_at = email.utils.parsedate_to_datetime(message["Date"])
        except (TypeError, ValueError):
            sent_at = None
        if sent_at is not None and timezone.is_naive(sent_at):
            sent_at = timezone.make_aware(sent_at, datetime.UTC)
    return InboundMessage(
        message_id=message_id[:255],
        from_name=decode_header_value(from_name)[:100],
        from_email=from_email.strip().lower()[:254],
        subject=decode_header_value(message.get("Subject"))[:200],
        body=body.replace("\r\n", "\n").strip()[:MAX_BODY_CHARS],
        sent_at=sent_at,
        attachments=attachments,
        is_automatic=_is_automatic(message),
    )


# --- filing ------------------------------------------------------------------------------------


def _uploads(message: InboundMessage) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(item.filename, item.content, content_type=item.content_type)
        for item in message.attachments
    ]


def _ticket_to_append(message: InboundMessage) -> Ticket | None:
    """The open ticket the subject names, when the mail comes from that ticket's contact: a
    stranger who writes a number into a subject opens a ticket of their own instead."""
    number = message.ticket_number
    if number is None:
        return None
    ticket = Ticket.objects.filter(number=number).first()
    if ticket is None or ticket.status == Ticket.Status.CLOSED:
        return None
    if not ticket.contact_email or ticket.contact_email.lower() != message.from_email:
        return None
    return ticket


@transaction.atomic
def inbound_message_process(*, mailbox: Mailbox | None, message: InboundMessage) -> InboundEmail:
    """Files one inbound mail: a message on the ticket its subject names, else a new ticket
    (matched to the archive contact with the sender's address). Recorded once per Message-ID:
    the same mail read again, from any mailbox, returns the first record and files nothing."""
    record, created = InboundEmail.objects.get_or_create(
        message_id=message.message_id,
        defaults={
            "mailbox": mailbox,
            "from_email": message.from_email,
            "subject": message.subject,
            "outcome": InboundEmail.Outcome.IGNORED,
        },
    )
    if not created:
        return record
    own_address = (mailbox.address if mailbox else "").lower()
    if message.is_automatic or not message.from_email or message.from_email == own_address:
        record.note = _("Automatic or own mail: not filed.")
        record.save(update_fields=["note"])
        return record
    uploads = _uploads(message)
    ticket = _ticket_to_append(message)
    if ticket is not None:
        ticket_message_add(
            ticket=ticket,
            body=message.body or message.subject,
            kind=TicketMessage.Kind.CUSTOMER,
            author_name=message.from_name,
        )
        record.outcome = InboundEmail.Outcome.APPENDED
    else:
        if mailbox is None:
            raise ValueError("A new ticket from email needs the mailbox's category.")
        contact = (
            Contact.objects.filter(email__iexact=message.from_email)
            .select_related("customer")
            .order_by("id")
            .first()
        )
        ticket = ticket_create(
            contact=contact,
            contact_name=message.from_name
            or (contact.name if contact else "")
            or message.from_email.split("@")[0],
            contact_email=message.from_email,
            category=mailbox.category,
            subject=message.subject,
            description=message.body or message.subject or _("(empty message)"),
            channel=Ticket.Channel.EMAIL,
        )
        record.outcome = InboundEmail.Outcome.CREATED
    _kept, refused = customer_files_attach(ticket=ticket, uploads=uploads)
    if refused:
        record.note = _("Attachments not accepted: %(names)s") % {"names": "、".join(refused)}
    record.ticket = ticket
    record.save(update_fields=["outcome", "ticket", "note"])
    return record


def inbound_raw_process(*, mailbox: Mailbox | None, raw: bytes) -> InboundEmail:
    return inbound_message_process(mailbox=mailbox, message=parse_message(raw))


# --- IMAP --------------------------------------------------------------------------------------


def _connect(mailbox: Mailbox, timeout: float) -> imaplib.IMAP4:
    if mailbox.use_ssl:
        return imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    return imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox_fetch(*, mailbox: Mailbox, limit: int = FETCH_BATCH, timeout: float = 30) -> int:
    """Reads unseen mail of one mailbox, files each message and marks it seen; returns how
    many were filed. A message that fails stays unseen and is tried again next time; one
    already filed (same Message-ID) is only marked seen."""
    filed = 0
    connection = _connect(mailbox, timeout)
    try:
        connection.login(mailbox.username, mailbox.password)
        status, _data = connection.select(_quoted(mailbox.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"Cannot open folder {mailbox.folder!r}")
        status, data = connection.uid("SEARCH", "UNSEEN")
        found = (data[0] or b"").split()[:limit] if status == "OK" else []
        for uid in (item.decode() for item in found):
            status, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(
                (part[1] for part in parts if isinstance(part, tuple) and len(part) > 1), None
            )
            if status != "OK" or not isinstance(raw, bytes):
                continue
            message = parse_message(raw)
            seen_before = InboundEmail.objects.filter(message_id=message.message_id).exists()
            if not seen_before:
                try:
                    record = inbound_message_process(mailbox=mailbox, message=message)
                except (ValidationError, ValueError):
                    logger.exception("Mailbox %s: message %s could not be filed", mailbox.pk, uid)
                    continue
                filed += record.outcome != InboundEmail.Outcome.IGNORED
            connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            logger.warning("Mailbox %s: logout failed", mailbox.pk)
    return filed


def mailboxes_fetch() -> int:
    """The beat job: reads every active mailbox, recording when and how each read went."""
    filed = 0
    for mailbox in Mailbox.objects.filter(is_active=True):
        error = ""
        try:
            filed += mailbox_fetch(mailbox=mailbox)
        except (OSError, imaplib.IMAP4.error) as exc:
            logger.warning("Mailbox %s could not be read: %s", mailbox.pk, exc)
            error = str(exc)[:1000] or exc.__class__.__name__
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_checked_at=timezone.now(), last_error=error
        )
    return filed
