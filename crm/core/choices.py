"""Dropdown choices from the cache instead of the database.

A list page with a dozen dictionary dropdowns (category, industry, region, tags, owners …) would
spend a dozen queries on lists that change a few times a year. Apps ``track()`` the models their
dropdowns draw from; ``use_cached_choices(form)`` then fills every model-choice field of a form
from the cache, keyed by the field's queryset, its labels and the language. A tracked model's
save or delete moves the one version of them all (a list may show a related model's name: an
industry under its section, a user's team), so every process sees the change on its next
render; the entries also expire on their own. Validation still reads the database, for the
submitted value only.
"""

from __future__ import annotations

import hashlib
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


def _version() -> str:
    return str(cache.get(VERSION_KEY, 0))


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


def cached_choices(field: forms.ModelChoiceField) -> list[tuple[Any, str]] | None:
    """The field's choices, from the cache when its model is tracked; None when it is not."""
    queryset = field.queryset
    if queryset is None or queryset.model not in _tracked:
        return None
    labels = type(field).label_from_instance
    fingerprint = hashlib.blake2b(
        "|".join(
            [
                str(queryset.query),
                _version(),
                translation.get_language() or "",
                f"{labels.__module__}.{labels.__qualname__}",
                str(field.empty_label),
            ]
        ).encode(),
        digest_size=16,
    ).hexdigest()
    key = f"choices:{queryset.model._meta.label_lower}:{fingerprint}"
    choices = cache.get(key)
    if choices is None:
        choices = list(field.choices)  # the one query, through Django's own iterator
        choices = [(str(value), str(label)) for value, label in choices]
        cache.set(key, choices, TIMEOUT)
    return choices


def cached_rows(queryset: models.QuerySet[Any]) -> list[Any]:
    """The rows of a small queryset over a tracked model (the active custom fields …), from
    the cache; renewed like the dropdowns when any tracked model changes."""
    if queryset.model not in _tracked:
        return list(queryset)
    fingerprint = hashlib.blake2b(
        f"{queryset.query}|{_version()}".encode(), digest_size=16
    ).hexdigest()
    key = f"rows:{queryset.model._meta.label_lower}:{fingerprint}"
    rows = cache.get(key)
    if rows is None:
        rows = list(queryset)
        cache.set(key, rows, TIMEOUT)
    return rows


def use_cached_choices(form: forms.Form) -> forms.Form:
    """Fills each model-choice field of the form from the cache; returns the form."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            choices = cached_choices(field)
            if choices is not None:
                # The plain setter: django-filter's own would wrap the list in a queryset iterator.
                forms.ChoiceField.choices.fset(field, choices)  # type: ignore[attr-defined]
    return form
