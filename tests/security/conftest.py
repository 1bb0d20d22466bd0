"""The world the access matrix probes: records owned by alice (rep, team A), and one of each
thing a URL can point at. Each ``matrix_<app>.py`` adds its records through ``build(world)``."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType, SimpleNamespace

import pytest
from django.db import models

import tests.security as package


def matrix_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("matrix_")
    ]


# Stored script: written into every free-text field of the world's records; no page may return it
# unescaped.
SCRIPT = '<img src=x onerror="document.title=1">'
# Text fields that are not free text: keys, codes, hashes, numbers, encrypted or indexed values.
NOT_FREE_TEXT = {"number", "token", "code", "key", "sha256", "mime_type", "query", "file", "verb"}


def free_text_fields(instance: models.Model) -> list[str]:
    return [
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField))
        and not field.choices
        and not field.unique
        and field.name not in NOT_FREE_TEXT
        and not field.name.endswith(("_index", "_hash", "_last4", "_initials", "_pinyin", "_key"))
        and type(field).__module__.startswith("django.")  # encrypted fields keep their format
    ]


def inject_script(instance: models.Model) -> None:
    names = free_text_fields(instance)
    values = {name: f"{getattr(instance, name) or ''}{SCRIPT}"[:2000] for name in names}
    for name in names:
        limit = instance._meta.get_field(name).max_length
        if limit and len(values[name]) > limit:
            values[name] = SCRIPT[:limit]
    type(instance)._base_manager.filter(pk=instance.pk).update(**values)


@pytest.fixture
def world(alice, bob, charlie, manager, agent, supervisor, analyst) -> SimpleNamespace:
    world = SimpleNamespace(
        users={
            "alice": alice,
            "bob": bob,
            "charlie": charlie,
            "manager": manager,
            "agent": agent,
            "supervisor": supervisor,
            "analyst": analyst,
        },
        # Text that only team A's line may see; an outsider's page must never contain it.
        secrets=[],
        records=[],  # what every free-text field of gets the stored script
    )
    for module in sorted(matrix_modules(), key=lambda module: getattr(module, "ORDER", 50)):
        build = getattr(module, "build", None)
        if build is not None:
            build(world)
    for record in world.records:
        inject_script(record)
    return world
