"""What automation rules can do with follow-ups: create a task for the customer's owner from a
task template (话术模板). Registered into crm.automation's registry when the app is ready.

The action's ``value`` names the template and ``hours`` says within how many hours the task is
due (24 when empty), counted from the event so that a rule run late keeps the promised delay.
``describe`` says what ``apply`` would do and changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import User
from crm.automation.models import Action
from crm.automation.registry import ActionError, ActionType, RunContext, register
from customers.models import Customer
from followups.models import FollowUpTask, TaskTemplate

MODEL = "customers.customer"
DEFAULT_HOURS = 24
REMIND_BEFORE = datetime.timedelta(hours=1)


def _customer(record: models.Model) -> Customer:
    if not isinstance(record, Customer):  # the engine checks the model; this is for mypy
        raise ActionError(_("This action applies to customers only."))
    return record


def _template(name: str) -> TaskTemplate:
    template = TaskTemplate.objects.filter(name=(name or "").strip(), is_active=True).first()
    if template is None:
        raise ActionError(_("There is no active task template named “%(name)s”.") % {"name": name})
    return template


def _due(action: Action, since: datetime.datetime) -> datetime.datetime:
    return since + datetime.timedelta(hours=action.hours or DEFAULT_HOURS)


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _plan(
    record: models.Model, action: Action, since: datetime.datetime
) -> tuple[Customer, User, TaskTemplate, datetime.datetime]:
    customer = _customer(record)
    if customer.owner is None:
        raise ActionError(_("The customer has no owner to give the task to."))
    return customer, customer.owner, _template(action.value), _due(action, since)


def apply_create_task(record: models.Model, action: Action, context: RunContext) -> str:
    since = getattr(context.event, "created_at", None) or timezone.now()
    customer, owner, template, due = _plan(record, action, since)
    task = FollowUpTask.objects.create(
        customer=customer,
        owner=owner,
        kind=FollowUpTask.Kind.RULE,
        title=template.name,
        content=template.content,
        method=template.method,
        due_at=due,
        remind_at=due - REMIND_BEFORE,
    )
    return _("Created task “%(title)s” for %(owner)s, due %(due)s") % {
        "title": task.title,
        "owner": owner,
        "due": _when(due),
    }


def describe_create_task(record: models.Model, action: Action) -> str:
    _record, owner, template, due = _plan(record, action, timezone.now())
    return _("Would create task “%(title)s” for %(owner)s, due %(due)s") % {
        "title": template.name,
        "owner": owner,
        "due": _when(due),
    }


def clean_create_task(data: dict[str, Any]) -> None:
    name = (data.get("value") or "").strip()
    if not name:
        return  # "required" reports it
    if not TaskTemplate.objects.filter(name=name, is_active=True).exists():
        raise ValidationError(
            {"value": _("There is no active task template named “%(name)s”.") % {"name": name}}
        )


register(
    ActionType(
        code="followups.create_task",
        label=gettext_lazy("Create a follow-up task from a template (value: template name)"),
        model=MODEL,
        apply=apply_create_task,
        describe=describe_create_task,
        required=("value",),
        clean=clean_create_task,
    )
)
