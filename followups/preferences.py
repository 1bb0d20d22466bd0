"""Reminder preferences: per kind of reminder, in the inbox and/or by email (both by default).

The page is ``followups:preferences``; the sweeps read the choices through
``followups.reminders.channels``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.accounts.models import User
from followups.models import Reminder, ReminderPreference

KINDS = Reminder.Kind


class ReminderPreferencesForm(forms.Form):
    """Two checkboxes per kind of reminder: ``<kind>-in_app`` and ``<kind>-email``."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        saved = {pref.kind: pref for pref in ReminderPreference.objects.filter(user=user)}
        initial = {}
        for kind in KINDS.values:
            pref = saved.get(kind)
            initial[f"{kind}-in_app"] = pref.in_app if pref else True
            initial[f"{kind}-email"] = pref.email if pref else True
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for kind, label in KINDS.choices:
            self.fields[f"{kind}-in_app"] = forms.BooleanField(label=label, required=False)
            self.fields[f"{kind}-email"] = forms.BooleanField(label=label, required=False)

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (str(label), self[f"{kind}-in_app"], self[f"{kind}-email"])
            for kind, label in KINDS.choices
        ]

    def choices(self) -> dict[str, tuple[bool, bool]]:
        return {
            kind: (self.cleaned_data[f"{kind}-in_app"], self.cleaned_data[f"{kind}-email"])
            for kind in KINDS.values
        }


@transaction.atomic
def reminder_preferences_save(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    """Stores the user's channels per kind; a kind left at the default (both) keeps no row."""
    for kind, (in_app, email) in choices.items():
        if in_app and email:
            ReminderPreference.objects.filter(user=user, kind=kind).delete()
        else:
            ReminderPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"in_app": in_app, "email": email}
            )


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required
    form = ReminderPreferencesForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        reminder_preferences_save(user=user, choices=form.choices())
        messages.success(request, _("Your reminder preferences have been saved."))
        return redirect(request.path)
    return render(request, "followups/preferences.html", {"form": form})
