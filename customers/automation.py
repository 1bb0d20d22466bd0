"""What automation rules can do to a customer: assign an owner, set the next follow-up due, add
or remove tags, set a field. Registered into crm.automation's registry when the app is ready;
every write goes through customers.services.

``apply`` writes and returns a line for the run log; ``describe`` says what ``apply`` would do
and changes nothing (the admin's "try it"): it reads the round-robin pointer without moving it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import Team, User
from crm.accounts.services import resolve_assignee
from crm.automation.models import Action, RoundRobinPointer
from crm.automation.registry import ActionError, ActionType, RunContext, register
from crm.core.inputs import as_pk
from customers import services
from customers.events import CUSTOMER_CHANGED
from customers.models import Customer, DemandTag, Territory

MODEL = "customers.customer"
Mode = Action.AssignMode


def _customer(record: models.Model) -> Customer:
    if not isinstance(record, Customer):  # the engine checks the model; this is for mypy
        raise ActionError(_("This action applies to customers only."))
    return record


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- assign an owner


@dataclass(frozen=True)
class Pick:
    """Who gets the customer, whose turn or territory it was, and how they were chosen."""

    owner: User
    member: User
    how: str

    def line(self) -> str:
        if self.owner.pk == self.member.pk:
            return self.how
        return _("%(how)s; backup of %(user)s, who is on leave") % {
            "how": self.how,
            "user": self.member,
        }


def _nobody(team: Team) -> ActionError:
    return ActionError(
        _("Nobody in team %(team)s can take the customer: all are on leave, inactive or expired.")
        % {"team": team}
    )


def _first_available(candidates: Iterable[User]) -> tuple[User, User] | None:
    """The first candidate who can take work, as (candidate, who takes it: them or a backup)."""
    for candidate in candidates:
        owner = resolve_assignee(candidate)
        if owner is not None:
            return candidate, owner
    return None


def _rotation(members: list[User], last_user_id: int | None) -> list[User]:
    """The members in round-robin order: those after the last one (by id), then from the top.
    Ids, not positions, so that members joining or leaving the team keep the turn fair."""
    if last_user_id is None:
        return members
    after = [member for member in members if member.pk > last_user_id]
    return after + [member for member in members if member.pk <= last_user_id]


def _pointer(team: Team, *, lock: bool) -> RoundRobinPointer | None:
    if not lock:
        return RoundRobinPointer.objects.filter(team=team).first()
    # The row lock serialises the choice between workers: a second worker waits here until the
    # first commits, then reads the pointer the first one moved, so nobody gets "the next" twice.
    pointer, _created = RoundRobinPointer.objects.select_for_update().get_or_create(team=team)
    return pointer


def _round_robin(team: Team, *, commit: bool) -> Pick:
    pointer = _pointer(team, lock=commit)
    members = list(team.members.filter(is_active=True).order_by("pk"))
    found = _first_available(_rotation(members, pointer.last_user_id if pointer else None))
    if found is None:
        raise _nobody(team)
    member, owner = found
    if commit and pointer is not None:
        # The pointer follows the member whose turn it was, not their backup: leave does not
        # shift the rotation for the others.
        pointer.last_user = member
        pointer.save(update_fields=["last_user"])
    return Pick(owner, member, _("round-robin in %(team)s") % {"team": team})


def _least_loaded(team: Team, *, commit: bool) -> Pick:
    # Two workers counting at once would both see the same member as least loaded; the team's
    # pointer row serves as the lock here too (the count runs after the lock is held).
    _pointer(team, lock=commit)
    members = (
        team.members.filter(is_active=True)
        .annotate(load=Count("customers", filter=Q(customers__status=Customer.Status.FOLLOWING)))
        .order_by("load", "pk")
    )
    found = _first_available(members)
    if found is None:
        raise _nobody(team)
    member, owner = found
    how = _("least loaded in %(team)s (%(count)s customers in follow-up)") % {
        "team": team,
        "count": member.load,  # type: ignore[attr-defined]
    }
    return Pick(owner, member, how)


def _unavailable(user: User) -> ActionError:
    return ActionError(
        _(
            "%(user)s cannot take the customer: inactive, expired, or on leave with no "
            "available backup."
        )
        % {"user": user}
    )


def _territory(customer: Customer, *, commit: bool) -> Pick:
    if customer.region_id is None:
        raise ActionError(_("The customer has no region, so no territory applies."))
    territory = Territory.objects.for_customer(
        region_id=customer.region_id, industry=customer.industry
    )
    if territory is None:
        raise ActionError(
            _("No territory covers region %(region)s and industry %(industry)s.")
            % {"region": customer.region, "industry": customer.industry or "—"}
        )
    if territory.user is not None:
        owner = resolve_assignee(territory.user)
        if owner is None:
            raise _unavailable(territory.user)
        return Pick(owner, territory.user, _("territory %(territory)s") % {"territory": territory})
    if territory.team is None:  # the check constraint wants a user or a team
        raise ActionError(
            _("Territory %(territory)s has neither a user nor a team.") % {"territory": territory}
        )
    pick = _round_robin(territory.team, commit=commit)
    how = _("territory %(territory)s, %(how)s") % {"territory": territory, "how": pick.how}
    return Pick(pick.owner, pick.member, how)


def _pick(customer: Customer, action: Action, *, commit: bool) -> Pick:
    mode = action.mode
    if mode == Mode.FIXED:
        if action.user is None:
            raise ActionError(_("The assignment has no user."))
        owner = resolve_assignee(action.user)
        if owner is None:
            raise _unavailable(action.user)
        return Pick(owner, action.user, _("fixed user"))
    if mode == Mode.TERRITORY:
        return _territory(customer, commit=commit)
    if mode in (Mode.ROUND_ROBIN, Mode.LEAST_LOADED):
        if action.team is None:
            raise ActionError(_("The assignment has no team."))
        if mode == Mode.ROUND_ROBIN:
            return _round_robin(action.team, commit=commit)
        return _least_loaded(action.team, commit=commit)
    raise ActionError(_("Unknown assignment mode “%(mode)s”.") % {"mode": mode})


def _keeps_owner(customer: Customer, action: Action) -> bool:
    # Pooled modes (territory, round-robin, least loaded) hand out customers nobody owns: run on
    # an owned customer (a known phone asking again, a customer.changed rule) they would bounce
    # it between reps and skew the split. A fixed user is an explicit routing decision by the
    # admin ("exhibition leads with this tag go to the dept 1 manager"), so it also reassigns.
    return customer.owner_id is not None and action.mode != Mode.FIXED


def apply_assign(record: models.Model, action: Action, context: RunContext) -> str:
    customer = _customer(record)
    # Two events of one customer delivered at once must not both assign it: lock the row and
    # decide on its committed owner. The engine's instance is refreshed so that later actions
    # of the rule (notify the owner) see the new owner.
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").first()
    customer.refresh_from_db()
    if _keeps_owner(customer, action):
        return _("Kept the owner %(owner)s: this mode assigns only customers without one.") % {
            "owner": customer.owner
        }
    pick = _pick(customer, action, commit=True)
    if pick.owner.pk == customer.owner_id:
        return _("%(owner)s already owns the customer.") % {"owner": pick.owner}
    services.customer_assign(
        customer=customer, owner=pick.owner, by=None, reason=str(context.rule.name)
    )
    return _("Assigned to %(owner)s: %(how)s") % {"owner": pick.owner, "how": pick.line()}


def describe_assign(record: models.Model, action: Action) -> str:
    customer = _customer(record)
    if _keeps_owner(customer, action):
        return _(
            "Would keep the owner %(owner)s: this mode assigns only customers without one."
        ) % {"owner": customer.owner}
    pick = _pick(customer, action, commit=False)
    return _("Would assign to %(owner)s: %(how)s") % {"owner": pick.owner, "how": pick.line()}


def assignment_failed(record: models.Model, message: str) -> None:
    """Leaves the failure on an unowned customer, which stays to be assigned: the managers'
    queue shows it. An owned customer keeps its owner; the run log holds the message."""
    Customer.objects.filter(pk=record.pk, owner__isnull=True).update(assignment_error=message[:300])


def clean_assign(data: dict[str, Any]) -> None:
    mode = data.get("mode")
    if mode == Mode.FIXED and not data.get("user"):
        raise ValidationError({"user": _("Assigning to a fixed user needs the user.")})
    if mode in (Mode.ROUND_ROBIN, Mode.LEAST_LOADED) and not data.get("team"):
        raise ValidationError({"team": _("Round-robin and least-loaded assignment need a team.")})


# --- next follow-up due


def _due(action: Action, since: datetime.datetime) -> datetime.datetime:
    if not action.hours:
        raise ActionError(_("The action has no number of hours."))
    return since + datetime.timedelta(hours=action.hours)


def _is_own_change(event: Any) -> bool:
    payload = getattr(event, "payload", None) or {}
    return getattr(event, "name", "") == CUSTOMER_CHANGED and set(payload.get("changed", [])) == {
        "next_follow_up_due"
    }


def apply_follow_up_due(record: models.Model, action: Action, context: RunContext) -> str:
    customer = _customer(record)
    if _is_own_change(context.event):
        # Setting the due date emits customer.changed; a rule on that event would set it again
        # from the new event's time, for ever. Other actions settle by themselves (a second run
        # changes nothing, so emits nothing); this one moves with the clock.
        return _("Left the next follow-up due as it is: the event was its own change.")
    # From the event, not from the run: a rule run late by the sweep keeps the promised delay.
    due = _due(action, getattr(context.event, "created_at", None) or timezone.now())
    services.customer_update(customer=customer, by=None, changes={"next_follow_up_due": due})
    return _("Next follow-up due %(due)s") % {"due": _when(due)}


def describe_follow_up_due(record: models.Model, action: Action) -> str:
    due = _due(action, timezone.now())
    return _("Would set the next follow-up due to %(due)s (%(hours)s h after the event)") % {
        "due": _when(due),
        "hours": action.hours,
    }


# --- tags

_TAG_SEPARATORS = re.compile(r"[,，、;；]")


def _tag_names(value: str) -> list[str]:
    names = [name.strip() for name in _TAG_SEPARATORS.split(value or "")]
    return list(dict.fromkeys(name for name in names if name))


def _tags(value: str) -> list[DemandTag]:
    """The tags named in an action's value (Chinese or English names); unknown names fail."""
    names = _tag_names(value)
    if not names:
        raise ActionError(_("The action names no tags."))
    by_name: dict[str, DemandTag] = {}
    for tag in DemandTag.objects.filter(Q(name__in=names) | Q(name_en__in=names)):
        by_name.setdefault(tag.name, tag)
        if tag.name_en:
            by_name.setdefault(tag.name_en, tag)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ActionError(_("Unknown tags: %(names)s.") % {"names": "、".join(unknown)})
    return list({by_name[name].pk: by_name[name] for name in names}.values())


def _tag_list(tags: list[DemandTag]) -> str:
    return "、".join(str(tag) for tag in tags)


def apply_add_tags(record: models.Model, action: Action, context: RunContext) -> str:
    tags = _tags(action.value)
    added = services.customer_tags_add(customer=_customer(record), tags=tags)
    if not added:
        return _("Already tagged %(tags)s") % {"tags": _tag_list(tags)}
    return _("Added tags %(tags)s") % {"tags": _tag_list(tags)}


def apply_remove_tags(record: models.Model, action: Action, context: RunContext) -> str:
    tags = _tags(action.value)
    removed = services.customer_tags_remove(customer=_customer(record), tags=tags)
    if not removed:
        return _("Had none of the tags %(tags)s") % {"tags": _tag_list(tags)}
    return _("Removed tags %(tags)s") % {"tags": _tag_list(tags)}


def describe_add_tags(record: models.Model, action: Action) -> str:
    return _("Would add tags %(tags)s") % {"tags": _tag_list(_tags(action.value))}


def describe_remove_tags(record: models.Model, action: Action) -> str:
    return _("Would remove tags %(tags)s") % {"tags": _tag_list(_tags(action.value))}


def clean_tags(data: dict[str, Any]) -> None:
    if not (data.get("value") or "").strip():
        return  # "required" reports it
    try:
        _tags(data["value"])
    except ActionError as error:
        raise ValidationError({"value": str(error)}) from error


# --- set a field

# The fields a rule may set. Owner goes through "assign", tags through add / remove; derived
# fields (tiers, number, name forms) belong to their jobs.
SETTABLE_FIELDS = (
    "type",
    "status",
    "lifecycle",
    "level",
    "category",
    "scale",
    "source",
    "region",
    "notes",
)


def _model_field(name: str) -> models.Field[Any, Any]:
    field = Customer._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation: never among SETTABLE_FIELDS
        raise ActionError(_("“%(field)s” cannot be set by a rule.") % {"field": name})
    return field


def _field_label(name: str) -> str:
    return str(_model_field(name).verbose_name)


def _choice_value(field: models.Field[Any, Any], text: str) -> str:
    wanted = text.casefold()
    for value, label in field.choices or ():
        names = {str(value).casefold()}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                names.add(str(label).casefold())
        if wanted in names:
            return str(value)
    raise ActionError(
        _("“%(value)s” is not a choice of %(field)s. Choose one of: %(choices)s.")
        % {
            "value": text,
            "field": field.verbose_name,
            "choices": "、".join(str(label) for _value, label in field.choices or ()),
        }
    )


# How an admin may name a dictionary entry, tried in this order (then the id).
_NAMES = {
    "level": ("name", "name_en"),
    "category": ("name", "name_en"),
    "scale": ("name", "name_en"),
    "source": ("code", "name", "name_en"),
    "region": ("code", "name", "name_en"),
}


def _related_value(field: models.Field[Any, Any], text: str) -> models.Model:
    model: type[models.Model] = field.related_model  # type: ignore[assignment]
    manager = model._default_manager
    for name in _NAMES[field.name]:
        lookup = f"{name}__iexact"
        matches = list(manager.filter(**{lookup: text})[:2])
        if len(matches) == 1:
            return matches[0]
    if (pk := as_pk(text)) is not None:
        match = manager.filter(pk=pk).first()
        if match is not None:
            return match
    raise ActionError(
        _("No %(model)s is called “%(value)s”.")
        % {"model": model._meta.verbose_name, "value": text}
    )


def _field_value(name: str, value: str) -> Any:
    """The value of the action parsed for the field: a choice by its value or label, a
    dictionary entry by its code, name or id, text as written."""
    if name not in SETTABLE_FIELDS:
        raise ActionError(
            _("“%(field)s” cannot be set by a rule. Choose one of: %(fields)s.")
            % {"field": name, "fields": ", ".join(SETTABLE_FIELDS)}
        )
    field = _model_field(name)
    text = (value or "").strip()
    if name == "notes":
        return value or ""
    if not text:
        if field.null:
            return None
        raise ActionError(_("%(field)s cannot be empty.") % {"field": _field_label(name)})
    if field.is_relation:
        return _related_value(field, text)
    return _choice_value(field, text)


def _shown(customer: Customer, name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name in ("type", "status", "lifecycle"):
        return str(dict(_model_field(name).choices or ()).get(value, value))
    return str(value)


def apply_set_field(record: models.Model, action: Action, context: RunContext) -> str:
    customer = _customer(record)
    value = _field_value(action.field, action.value)
    params = {"field": _field_label(action.field), "value": _shown(customer, action.field, value)}
    if getattr(customer, action.field) == value:
        return _("%(field)s was already %(value)s") % params
    # by=None is the system, not a rep: key fields (level) change directly, without approval.
    services.customer_update(customer=customer, by=None, changes={action.field: value})
    return _("Set %(field)s to %(value)s") % params


def describe_set_field(record: models.Model, action: Action) -> str:
    customer = _customer(record)
    value = _field_value(action.field, action.value)
    return _("Would set %(field)s to %(value)s") % {
        "field": _field_label(action.field),
        "value": _shown(customer, action.field, value),
    }


def clean_set_field(data: dict[str, Any]) -> None:
    name = data.get("field") or ""
    if not name:
        return  # "required" reports it
    if name not in SETTABLE_FIELDS:
        raise ValidationError(
            {
                "field": _("“%(field)s” cannot be set by a rule. Choose one of: %(fields)s.")
                % {"field": name, "fields": ", ".join(SETTABLE_FIELDS)}
            }
        )
    try:
        _field_value(name, data.get("value") or "")
    except ActionError as error:
        raise ValidationError({"value": str(error)}) from error


register(
    ActionType(
        code="customers.assign_owner",
        label=gettext_lazy("Assign an owner"),
        model=MODEL,
        apply=apply_assign,
        describe=describe_assign,
        required=("mode",),
        is_assignment=True,
        on_error=assignment_failed,
        clean=clean_assign,
    )
)
register(
    ActionType(
        code="customers.set_follow_up_due",
        label=gettext_lazy("Set the next follow-up due (within hours)"),
        model=MODEL,
        apply=apply_follow_up_due,
        describe=describe_follow_up_due,
        required=("hours",),
    )
)
register(
    ActionType(
        code="customers.add_tags",
        label=gettext_lazy("Add tags"),
        model=MODEL,
        apply=apply_add_tags,
        describe=describe_add_tags,
        required=("value",),
        clean=clean_tags,
    )
)
register(
    ActionType(
        code="customers.remove_tags",
        label=gettext_lazy("Remove tags"),
        model=MODEL,
        apply=apply_remove_tags,
        describe=describe_remove_tags,
        required=("value",),
        clean=clean_tags,
    )
)
register(
    ActionType(
        code="customers.set_field",
        label=gettext_lazy("Set a field"),
        model=MODEL,
        apply=apply_set_field,
        describe=describe_set_field,
        required=("field",),
        clean=clean_set_field,
    )
)
