from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.accounts.roles import Level, Role
from crm.core.fields import EncryptedTextField
from crm.core.phones import phone_index, phone_last4, validate_phone


class Region(models.Model):
    """A customary sales region of mainland China (华东, 华南, …)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return (
            self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name
        )


class Province(models.Model):
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="provinces", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=50, unique=True)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)

    class Meta:
        ordering = ["region__sort_order", "id"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return (
            self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name
        )


@dataclass(frozen=True)
class TeamTree:
    """The organisation tree read in one query; teams are few, so walking it in memory is cheap."""

    parent: dict[int, int | None]
    kind: dict[int, str]
    head: dict[int, int | None]

    def children(self) -> dict[int | None, list[int]]:
        result: dict[int | None, list[int]] = {}
        for team_id, parent_id in self.parent.items():
            result.setdefault(parent_id, []).append(team_id)
        return result

    def subtree(self, roots: set[int]) -> frozenset[int]:
        """The given teams and all their descendants."""
        children = self.children()
        found: set[int] = set()
        stack = list(roots)
        while stack:
            team_id = stack.pop()
            if team_id in found:
                continue
            found.add(team_id)
            stack.extend(children.get(team_id, []))
        return frozenset(found)

    def department_of(self, team_id: int) -> int:
        """The nearest department at or above the team (the root if none is marked)."""
        node: int | None = team_id
        last = team_id
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            last = node
            if self.kind.get(node) == Team.Kind.DEPARTMENT:
                return node
            node = self.parent.get(node)
        return last

    def headed_by(self, user_id: int) -> set[int]:
        return {team_id for team_id, head_id in self.head.items() if head_id == user_id}


class TeamQuerySet(models.QuerySet["Team"]):
    def tree(self) -> TeamTree:
        rows = list(self.values_list("id", "parent_id", "kind", "head_id"))
        return TeamTree(
            parent={row[0]: row[1] for row in rows},
            kind={row[0]: row[2] for row in rows},
            head={row[0]: row[3] for row in rows},
        )


class Team(models.Model):
    """A node of the organisation tree: departments hold groups."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        GROUP = "group", _("Group")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.GROUP)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent team"),
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_teams",
        verbose_name=_("head"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("region")
    )
    history = HistoricalRecords()

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="team_unique_name_in_parent")
        ]

    def __str__(self) -> str:
        return self.name

    def department(self) -> Team:
        """The nearest department at or above this team."""
        return Team.objects.get(pk=Team.objects.tree().department_of(self.pk))


@dataclass(frozen=True)
class Visibility:
    """What a user may see of owned records: the level and, below ALL, the teams it covers.
    A read-only reach (analysts) sees everything and changes nothing."""

    level: Level
    team_ids: frozenset[int] = frozenset()
    read_only: bool = False


class User(AbstractUser):
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    region = models.ForeignKey(
        Region, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("region")
    )
    phone = EncryptedTextField(_("phone"), blank=True, validators=[validate_phone])
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_last4 = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    expires_on = models.DateField(
        _("account expires on"),
        null=True,
        blank=True,
        help_text=_("The account can be used until the end of this day, e.g. for interns."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_from(self.last_name, self.first_name, self.username)

    @staticmethod
    def name_from(last_name: str, first_name: str, username: str) -> str:
        """A user's name from its parts, for rows read as values. Chinese names read family
        name first, with no space."""
        return f"{last_name}{first_name}".strip() or username

    def set_phone(self, value: str) -> None:
        """Sets the encrypted phone and the columns that find it."""
        self.phone = value
        self.phone_index = phone_index(value) if value else ""
        self.phone_last4 = phone_last4(value) if value else ""

    def is_expired(self, today: datetime.date | None = None) -> bool:
        if self.expires_on is None:
            return False
        today = today or timezone.localdate()
        return self.expires_on < today

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: Role) -> bool:
        return (self.is_superuser and Role.ADMIN in roles) or bool(self.roles & set(roles))

    @cached_property
    def visibility(self) -> Visibility:
        """The reach of this user's view of owned records (see crm.core.visibility)."""
        if self.is_superuser or Role.ADMIN in self.roles:
            return Visibility(Level.ALL)
        if Role.ANALYST in self.roles:
            return Visibility(Level.ALL, read_only=True)
        is_supervisor = Role.SERVICE_SUPERVISOR in self.roles
        is_manager = Role.SALES_MANAGER in self.roles
        tree = Team.objects.tree()
        roots = tree.headed_by(self.pk)
        if not (is_supervisor or is_manager or roots):
            return Visibility(Level.OWN)
        if self.team_id is not None:
            if is_supervisor:
                roots.add(tree.department_of(self.team_id))
            elif is_manager:
                roots.add(self.team_id)
        level = Level.DEPARTMENT if is_supervisor else Level.TEAM
        return Visibility(level, tree.subtree(roots))


class LeaveQuerySet(models.QuerySet["Leave"]):
    def on(self, day: datetime.date) -> LeaveQuerySet:
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Leave(models.Model):
    """A period of leave (请假); automatic assignments go to the backup meanwhile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="leaves",
        verbose_name=_("user"),
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="covering_leaves",
        verbose_name=_("backup user"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    history = HistoricalRecords()

    objects = LeaveQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("leave")
        verbose_name_plural = _("leaves")
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="leave_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(backup=models.F("user")), name="leave_backup_is_someone_else"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on} – {self.ends_on}"
