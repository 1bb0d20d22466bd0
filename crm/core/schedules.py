"""Periodic jobs declared in code and written into django-celery-beat's tables.

Apps register their jobs when ready; ``manage.py sync_schedules`` (run by ``make run`` and on
deploy) creates or updates the rows, and admins may then change intervals or switch jobs off.
"""

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month_of_year day_of_week"
    description: str | Promise = ""


_schedules: dict[str, Schedule] = {}


def register(
    name: str,
    *,
    task: str,
    every_seconds: int | None = None,
    crontab: str | None = None,
    description: str | Promise = "",
) -> None:
    if (every_seconds is None) == (crontab is None):
        raise ValueError("A schedule needs exactly one of every_seconds and crontab.")
    _schedules[name] = Schedule(name, task, every_seconds, crontab, description)


def all_schedules() -> list[Schedule]:
    return sorted(_schedules.values(), key=lambda schedule: schedule.name)
