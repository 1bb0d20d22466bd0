"""Dropdown choices from the cache instead of the database.

A list page with a dozen dictionary dropdowns (category, industry, region, tags, owners …) would
spend a dozen queries on lists that change a few times a year. Apps ``track()`` the models their
dropdowns draw from; ``use_cached_choices(form)`` then fills every model-choice field of a form
from the cache, keyed by the field's queryset, its labels and the language, in one round trip.
A tracked model's save or delete moves the one version of them all (a list may show a related
model's name: an industry under its section, a user's team), so every process sees the change
on its next render; the entries also expire on their own. Validation still reads the database,
for the submitted value only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.cache import cache
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import translation

TIMEOUT = 600
_tracked: set[type[models.Model]] = set()


VERSION_KEY = "choices:version"


def _bump(sender: type[models.Model], **kwargs: Any) -> None:
    if kwargs.get("update_fields") == frozenset({"last_login"}):
        return  # a sign-in changes no dropdown
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under the old one
        cache.set(VERSION_KEY, 1, None)


def track(*model_classes: type[models.Model]) -> None:
    """Lets forms cache choices drawn from these models; call from an app's ``ready()``."""
    for model in model_classes:
        if model in _tracked:
            continue
        _tracked.add(model)
        uid = f"crm.core.choices:{model._meta.label_lower}"
        post_save.connect(_bump, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(_bump, sender=model, dispatch_uid=uid, weak=False)


def _bump_m2m(sender: Any, action: str, model: type[models.Model], **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"} and model in _tracked:
        _bump(model)


m2m_changed.connect(_bump_m2m, dispatch_uid="crm.core.choices:m2m", weak=False)


def _key(kind: str, queryset: models.QuerySet[Any], *parts: str) -> str:
    fingerprint = hashlib.blake2b(
        "|".join([str(queryset.query), *parts]).encode(), digest_size=16
    ).hexdigest()
    return f"{kind}:{queryset.model._meta.label_lower}:{fingerprint}"


def _cached(entries: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each key's value from the cache, or built by its function and cached, in one round trip
    to read (and one more to write what was missing). An entry is stored with the version it
    was built under and served only while that is still the version: one that a change
    overtook while it was being built is rebuilt by the next reader."""
    found = cache.get_many([VERSION_KEY, *entries])
    version = found.get(VERSION_KEY, 0)
    values: dict[str, Any] = {}
    missing: dict[str, tuple[int, Any]] = {}
    for key, build in entries.items():
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            values[key] = entry[1]
        else:
            values[key] = build()
            missing[key] = (version, values[key])
    if missing:
        cache.set_many(missing, TIMEOUT)
    return values


def _choices_key(field: forms.ModelChoiceField) -> str:
    labels = type(field).label_from_instance
    return _key(
        "choices",
        field.queryset,
        translation.get_language() or "",
        f"{labels.__module__}.{labels.__qualname__}",
        str(field.empty_label),
    )


def _choices_of(field: forms.ModelChoiceField) -> Callable[[], list[tuple[str, str]]]:
    # The one query, through Django's own iterator.
    return lambda: [(str(value), str(label)) for value, label in field.choices]


def cached_rows(queryset: models.QuerySet[Any]) -> list[Any]:
    """The rows of a small queryset over a tracked model (the active custom fields …), from
    the cache; renewed like the dropdowns when any tracked model changes."""
    if queryset.model not in _tracked:
        return list(queryset)
    key = _key("rows", queryset)
    return _cached({key: lambda: list(queryset)})[key]


def use_cached_choices(form: forms.Form) -> forms.Form:
    """Fills each model-choice field of the form from the cache; returns the form."""
    fields = [
        (_choices_key(field), field)
        for field in form.fields.values()
        if isinstance(field, forms.ModelChoiceField)
        and field.queryset is not None
        and field.queryset.model in _tracked
    ]
    if not fields:
        return form
    choices = _cached({key: _choices_of(field) for key, field in fields})
    for key, field in fields:
        # The plain setter: django-filter's own would wrap the list in a queryset iterator.
        forms.ChoiceField.choices.fset(field, choices[key])  # type: ignore[attr-defined]
    return form
