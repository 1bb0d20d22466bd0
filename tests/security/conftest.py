"""The world the access matrix probes: records owned by alice (rep, team A), and one of each
thing a URL can point at. Each ``matrix_<app>.py`` adds its records through ``build(world)``."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType, SimpleNamespace

import pytest

import tests.security as package


def matrix_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("matrix_")
    ]


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
    )
    for module in sorted(matrix_modules(), key=lambda module: getattr(module, "ORDER", 50)):
        build = getattr(module, "build", None)
        if build is not None:
            build(world)
    return world
