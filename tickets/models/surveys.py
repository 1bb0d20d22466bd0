"""Satisfaction surveys: CSAT after a ticket closes, NPS a week after a deal is won."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team
from customers.models import Contact, Customer


def new_survey_token() -> str:
    return secrets.token_urlsafe(24)


class SurveySettings(models.Model):
    """Survey timing and what counts as a low score (one row), edited in admin."""

    csat_valid_days = models.PositiveSmallIntegerField(
        _("CSAT link valid for (days)"), default=14, validators=[MinValueValidator(1)]
    )
    nps_delay_days = models.PositiveSmallIntegerField(
        _("NPS sent after a deal is won (days)"), default=7
    )
    nps_valid_days = models.PositiveSmallIntegerField(
        _("NPS link valid for (days)"), default=30, validators=[MinValueValidator(1)]
    )
    low_csat_max = models.PositiveSmallIntegerField(
        _("low CSAT: at most (stars)"),
        default=2,
        validators=[MaxValueValidator(5)],
        help_text=_("An answer this low opens a follow-up task for the supervisor."),
    )
    low_nps_max = models.PositiveSmallIntegerField(
        _("low NPS: at most"),
        default=6,
        validators=[MaxValueValidator(10)],
        help_text=_("An answer this low opens a follow-up task for the sales manager."),
    )

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")

    def __str__(self) -> str:
        return str(_("Survey settings"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> SurveySettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class SurveyQuerySet(models.QuerySet["Survey"]):
    def visible_to(self, user) -> SurveyQuerySet:  # type: ignore[no-untyped-def]
        """Whoever may see the ticket (CSAT) or, for NPS, managers and analysts of the company."""
        from tickets.models.tickets import visible_tickets

        if not user.is_authenticated or not user.is_active:
            return self.none()
        tickets = visible_tickets(user, through="ticket")
        if tickets is None:
            # Every ticket and customer: no subquery over 200,000 tickets to say so.
            return self.all()
        # Each survey's own ticket tested through the join, not every visible ticket hashed.
        customers = Customer.objects.visible_to(user).values("pk")
        return self.filter(
            (Q(kind=Survey.Kind.CSAT) & tickets) | Q(kind=Survey.Kind.NPS, customer__in=customers)
        )

    def due_to_send(self, now: datetime.datetime) -> SurveyQuerySet:
        return self.filter(sent_at__isnull=True, send_after__lte=now)

    def answered(self) -> SurveyQuerySet:
        return self.filter(answered_at__isnull=False)


class Survey(models.Model):
    """One survey sent to one person, answered at most once through its token link."""

    class Kind(models.TextChoices):
        CSAT = "csat", _("Satisfaction (1–5 stars)")
        NPS = "nps", _("Recommendation (NPS 0–10)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True, default=new_survey_token, editable=False)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("ticket"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact"),
    )
    recipient_name = models.CharField(_("recipient"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # Whose work is rated: the ticket's assignee and department when it closed.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    department = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    # The domain event that asked for this survey: a redelivered event asks only once.
    source_event = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    followup_task = models.ForeignKey(
        "followups.FollowUpTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follow-up task"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(
                fields=["send_after"],
                name="survey_pending_send",
                condition=Q(sent_at__isnull=True),
            ),
            models.Index(fields=["kind", "answered_at"], name="survey_kind_answered"),
            # Dashboards: the answers of a period, of both kinds (the index above leads with
            # the kind, so a period alone read the whole table).
            models.Index(
                fields=["answered_at"],
                name="survey_answered",
                condition=Q(answered_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="survey_score_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.recipient_name or self.email}"

    def get_absolute_url(self) -> str:
        return reverse("service:survey", args=[self.token])

    @property
    def scale(self) -> range:
        return range(1, 6) if self.kind == self.Kind.CSAT else range(11)

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    def is_expired(self, now: datetime.datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def is_open(self, now: datetime.datetime) -> bool:
        return self.sent_at is not None and not self.is_answered and not self.is_expired(now)
