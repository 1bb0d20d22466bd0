"""Platform actions, for any record: notify people from an editable template."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.automation.models import Action
from crm.automation.registry import ActionError, ActionType, RunContext, register
from crm.notifications.services import notify


def _owner(record: models.Model):  # type: ignore[no-untyped-def]
    return getattr(record, "owner", None)


def _team_head(user):  # type: ignore[no-untyped-def]
    team = getattr(user, "team", None)
    while team is not None:
        if team.head_id and team.head_id != user.pk:
            return team.head
        team = team.parent
    return None


def recipients_for(record: models.Model, action: Action) -> list:  # type: ignore[type-arg]
    kind = action.recipients
    if kind == Action.Recipients.USER:
        return [action.user]
    if kind == Action.Recipients.ROLE:
        return list(get_user_model().objects.filter(groups__name=action.role, is_active=True))
    owner = _owner(record)
    if kind == Action.Recipients.OWNER_AND_MANAGER:
        return [owner, _team_head(owner) if owner else None]
    return [owner]


def render_message(
    record: models.Model, action: Action, context: RunContext | None
) -> tuple[str, str]:
    template = action.template
    if template is None:
        raise ActionError(_("The notify action has no message template."))
    deadline = None
    if action.hours:
        deadline = timezone.now() + datetime.timedelta(hours=action.hours)
    data = {
        "record": record,
        "event": getattr(context, "event", None),
        "requirement": getattr(record, "notes", ""),
        "deadline": deadline,
    }
    engine = Engine.get_default()
    try:
        subject = engine.from_string(template.subject).render(Context(data, autoescape=False))
        body = engine.from_string(template.body).render(Context(data, autoescape=False))
    except TemplateSyntaxError as error:
        raise ActionError(
            _("The message template is broken: %(error)s") % {"error": error}
        ) from error
    return " ".join(subject.split())[:300], body.strip()


def apply_notify(record: models.Model, action: Action, context: RunContext) -> str:
    people = [person for person in recipients_for(record, action) if person is not None]
    if not people:
        raise ActionError(_("Nobody to notify: the record has no owner."))
    text = render_message(record, action, context)
    url = record.get_absolute_url() if hasattr(record, "get_absolute_url") else ""
    notify(people, "automation_message", record, url=url, text=text)
    return _("Notified %(names)s") % {"names": "、".join(str(person) for person in people)}


def describe_notify(record: models.Model, action: Action) -> str:
    people = [person for person in recipients_for(record, action) if person is not None]
    subject, _body = render_message(record, action, None)
    return _("Would notify %(names)s: %(subject)s") % {
        "names": "、".join(str(person) for person in people) or "—",
        "subject": subject,
    }


register(
    ActionType(
        code="notify",
        label=gettext_lazy("Notify (in-app and email)"),
        apply=apply_notify,
        describe=describe_notify,
        required=("recipients", "template"),
    )
)
