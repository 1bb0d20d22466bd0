"""Demo data: each app registers a step that ``manage.py seed_demo`` runs in order.

Every step must be idempotent: running the command twice changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[], None]


_steps: dict[str, DemoStep] = {}


def register(order: int, name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def decorator(function: Callable[[], None]) -> Callable[[], None]:
        _steps[name] = DemoStep(order, name, function)
        return function

    return decorator


def steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda step: step.order)
