"""Inbound email: the IMAP mailboxes admins configure and the messages read from them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.fields import EncryptedTextField
from tickets.models.config import TicketCategory


class Mailbox(models.Model):
    """A service mailbox read over IMAP; each new mail becomes a ticket of ``category``."""

    name = models.CharField(_("name"), max_length=100)
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_ssl = models.BooleanField(
        _("SSL/TLS"), default=True, help_text=_("Port 993 uses SSL; port 143 usually does not.")
    )
    username = models.CharField(_("user name"), max_length=255)
    password = EncryptedTextField(_("password"))
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    address = models.EmailField(
        _("mailbox address"),
        blank=True,
        help_text=_("Mail from this address is our own and never becomes a ticket."),
    )
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("category of new tickets"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service mailbox")
        verbose_name_plural = _("service mailboxes")

    def __str__(self) -> str:
        return self.name


class InboundEmail(models.Model):
    """One message read from a mailbox, recorded once per Message-ID so a redelivered or
    re-read mail never files twice."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Ticket created")
        APPENDED = "appended", _("Added to a ticket")
        IGNORED = "ignored", _("Ignored")

    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("mailbox"),
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    from_email = models.EmailField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
        verbose_name=_("ticket"),
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject}"
