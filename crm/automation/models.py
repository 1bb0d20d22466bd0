from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.models import Team
from crm.accounts.roles import Role


class RuleQuerySet(models.QuerySet["Rule"]):
    def active_for(self, event_name: str) -> RuleQuerySet:
        return (
            self.filter(is_active=True, trigger=event_name)
            .prefetch_related("conditions", "actions")
            .order_by("order", "id")
        )


class Rule(models.Model):
    """An if-then rule (自动化规则): on an event, when the conditions hold, run the actions.

    Conditions with the same group number must all hold; the rule matches when any group does
    ("(A and B) or (C and D)"). With a delay, the rule runs that many hours after the event,
    testing its conditions then — "48 hours after a lead arrived, still unassigned".
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger event"), max_length=60, db_index=True)
    delay_hours = models.PositiveIntegerField(
        _("delay (hours)"),
        default=0,
        help_text=_("0 runs the rule at once; otherwise this many hours after the event."),
    )
    order = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    stop_after_match = models.BooleanField(
        _("stop after a match"),
        default=False,
        help_text=_("Later rules for the same event are skipped when this one matches."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["trigger", "order", "id"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")

    def __str__(self) -> str:
        return self.name


class Condition(models.Model):
    class Operator(models.TextChoices):
        EQUALS = "eq", _("equals")
        NOT_EQUALS = "ne", _("does not equal")
        IN = "in", _("is one of")
        CONTAINS = "contains", _("contains")
        GREATER = "gt", _("is greater than")
        LESS = "lt", _("is less than")
        IS_EMPTY = "empty", _("is empty")
        NOT_EMPTY = "not_empty", _("is not empty")
        CHANGED_TO = "changed_to", _("changed to")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    group = models.PositiveSmallIntegerField(
        _("group"), default=1, help_text=_("Conditions of one group must all hold; any group may.")
    )
    field = models.CharField(_("field"), max_length=60)
    operator = models.CharField(_("operator"), max_length=12, choices=Operator.choices)
    value = models.CharField(
        _("value"),
        max_length=300,
        blank=True,
        help_text=_("A name, code or number; for “is one of”, values separated by commas."),
    )

    class Meta:
        ordering = ["group", "id"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self) -> str:
        return f"{self.field} {self.get_operator_display()} {self.value}"


class Action(models.Model):
    """One thing a rule does. Which fields matter depends on the action type (see help texts)."""

    class AssignMode(models.TextChoices):
        FIXED = "fixed", _("A fixed user")
        TERRITORY = "territory", _("By region and industry (territory table)")
        ROUND_ROBIN = "round_robin", _("Round-robin within a team")
        LEAST_LOADED = "least_loaded", _("Least loaded within a team")

    class Recipients(models.TextChoices):
        OWNER = "owner", _("The record's owner")
        OWNER_AND_MANAGER = "owner_manager", _("The owner and their team head")
        USER = "user", _("A fixed user")
        ROLE = "role", _("Everyone with a role")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="actions")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    type = models.CharField(_("action"), max_length=40)
    mode = models.CharField(
        _("assignment mode"), max_length=20, choices=AssignMode.choices, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("team")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, blank=True)
    recipients = models.CharField(
        _("recipients"), max_length=20, choices=Recipients.choices, blank=True
    )
    template = models.ForeignKey(
        "MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("message template"),
    )
    hours = models.PositiveIntegerField(_("within hours"), null=True, blank=True)
    field = models.CharField(_("field"), max_length=60, blank=True)
    value = models.CharField(
        _("value"), max_length=300, blank=True, help_text=_("Tags: names separated by commas.")
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")

    def __str__(self) -> str:
        from crm.automation import registry

        try:
            return str(registry.action(self.type).label)
        except LookupError:
            return self.type


class MessageTemplate(models.Model):
    """An editable notification text. Django template syntax: {{ record }}, {{ record.number }},
    {{ requirement }}, {{ deadline|date:"Y-m-d H:i" }}, {{ event }}."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.code


class RoundRobinPointer(models.Model):
    """Who in a team had the last round-robin assignment; locked while the next is chosen."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="+")
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.team_id} → {self.last_user_id}"


class RuleRunQuerySet(models.QuerySet["RuleRun"]):
    def since(self, moment) -> RuleRunQuerySet:  # type: ignore[no-untyped-def]
        return self.filter(created_at__gte=moment)


class RuleRun(models.Model):
    """One evaluation of one rule for one event: the run log (and the idempotency key)."""

    class Status(models.TextChoices):
        NOT_MATCHED = "not_matched", _("Not matched")
        SUCCESS = "success", _("Success")
        FAILED = "failed", _("Failed")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    event = models.ForeignKey(
        "core.DomainEvent", on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    matched = models.BooleanField(_("matched"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    actions_taken = models.JSONField(_("actions taken"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    assignment_failed = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    created_at = models.DateTimeField(_("run at"), default=timezone.now)

    objects = RuleRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        constraints = [
            # A retried delivery finds the run and does not apply the rule again.
            models.UniqueConstraint(fields=["rule", "event"], name="rule_run_once_per_event")
        ]
        indexes = [
            models.Index(fields=["rule", "created_at"]),
            models.Index(fields=["content_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} @ {self.event_id}: {self.status}"


class AutomationSettings(models.Model):
    assignment_failure_threshold = models.DecimalField(
        _("assignment failure alert threshold (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
    )

    class Meta:
        verbose_name = _("automation settings")
        verbose_name_plural = _("automation settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> AutomationSettings:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class FailureAlert(models.Model):
    """Marks that admins were told about a rule's failure rate on a day (once per rule and day)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    failure_rate = models.DecimalField(max_digits=5, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "day"], name="alert_once_a_day")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.day}"
