"""What admins configure for the service desk: queues, categories, SLA policies, desk settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    IMPORTANT = "important", _("Important")
    NORMAL = "normal", _("Normal")
    SUGGESTION = "suggestion", _("Suggestion")


class ServiceQueue(models.Model):
    """A department's ticket queue (工单队列): who is in it and how tickets reach a person.

    The row doubles as the dispatch lock: dispatch takes it ``select_for_update``, so two
    tickets created at once are handed out one after the other, never to the same pointer.
    """

    class Mode(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")

    team = models.OneToOneField(
        Team, on_delete=models.PROTECT, related_name="service_queue", verbose_name=_("department")
    )
    mode = models.CharField(
        _("dispatch rule"), max_length=20, choices=Mode.choices, default=Mode.ROUND_ROBIN
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="QueueAgent",
        related_name="service_queues",
        verbose_name=_("agents"),
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("last assigned to"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["team__name"]
        verbose_name = _("service queue")
        verbose_name_plural = _("service queues")

    def __str__(self) -> str:
        return self.team.name


class QueueAgent(models.Model):
    """An agent of a queue; only agents on duty (在岗) receive automatic dispatch."""

    queue = models.ForeignKey(
        ServiceQueue, on_delete=models.CASCADE, related_name="members", verbose_name=_("queue")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="queue_memberships",
        verbose_name=_("agent"),
    )
    on_duty = models.BooleanField(_("on duty"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("queue agent")
        verbose_name_plural = _("queue agents")
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="queue_agent_unique")]

    def __str__(self) -> str:
        return f"{self.queue} · {self.user}"


class TicketCategory(models.Model):
    """工单分类, two levels (complaint → service quality …); each routes to a department queue."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    queue = models.ForeignKey(
        ServiceQueue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="categories",
        verbose_name=_("queue"),
        help_text=_("Empty: the parent category's queue."),
    )
    default_priority = models.CharField(
        _("default priority"), max_length=20, choices=Priority.choices, default=Priority.NORMAL
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="ticket_category_unique_name")
        ]

    def __str__(self) -> str:
        if self.parent_id and self.parent:
            return f"{self.parent.label} / {self.label}"
        return self.label

    @property
    def label(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    def routed_queue(self) -> ServiceQueue | None:
        """This category's queue, or its parent's."""
        if self.queue_id:
            return self.queue
        if self.parent_id and self.parent:
            return self.parent.queue
        return None


class SLAPolicy(models.Model):
    """服务时效: response and resolution targets for a priority, optionally for one category.

    A category's own policy wins over the priority's general one. Targets count working time
    on the company calendar (tickets.calendar).
    """

    class Unit(models.TextChoices):
        WORKING_HOURS = "working_hours", _("working hours")
        WORKING_DAYS = "working_days", _("working days")

    priority = models.CharField(_("priority"), max_length=20, choices=Priority.choices)
    category = models.ForeignKey(
        TicketCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("category"),
        help_text=_("Empty: every category without a policy of its own."),
    )
    response_target = models.PositiveIntegerField(
        _("first response within"), validators=[MinValueValidator(1)]
    )
    response_unit = models.CharField(
        _("unit"), max_length=20, choices=Unit.choices, default=Unit.WORKING_HOURS
    )
    resolution_target = models.PositiveIntegerField(
        _("resolution within"), validators=[MinValueValidator(1)]
    )
    resolution_unit = models.CharField(
        _("unit"), max_length=20, choices=Unit.choices, default=Unit.WORKING_DAYS
    )
    warn_before_minutes = models.PositiveIntegerField(
        _("warn before breach (minutes)"),
        default=120,
        help_text=_("The assignee is warned this long before a deadline."),
    )

    class Meta:
        ordering = ["priority", "category_id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "category"], name="sla_policy_unique_category"
            ),
            models.UniqueConstraint(
                fields=["priority"],
                condition=Q(category__isnull=True),
                name="sla_policy_unique_general",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_priority_display()
        if self.category_id:
            return f"{label} · {self.category}"
        return str(label)


class DeskSettings(models.Model):
    """The service desk's settings (one row), edited in admin."""

    delay_explanation_after_days = models.PositiveSmallIntegerField(
        _("delay explanation after (days past due)"),
        default=3,
        help_text=_(
            "A ticket this many days past its resolution deadline cannot move on until its "
            "owner files a delay explanation."
        ),
    )
    email_public_replies = models.BooleanField(
        _("email public replies to the customer"), default=True
    )

    class Meta:
        verbose_name = _("service desk settings")
        verbose_name_plural = _("service desk settings")

    def __str__(self) -> str:
        return str(_("Service desk settings"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> DeskSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row
