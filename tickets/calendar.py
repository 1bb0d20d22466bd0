"""The company business calendar: SLA clocks count working time, not wall-clock time.

A working day is a day the State Council's schedule (the chinese-calendar package) says is one —
weekdays except public holidays, plus make-up Saturdays and Sundays (调休上班) — unless the
admin's ``CalendarDay`` table says otherwise. For years the package does not know, the calendar
falls back to Monday–Friday plus that table. Working time within a day is the company's
``WorkingHours`` (09:00–18:00 with a lunch break by default), in the company time zone.

Arithmetic steps a day at a time and intersects the day's working periods, so a due date three
weeks away costs some twenty iterations, never a loop over minutes. Every function takes and
returns aware datetimes.

``add_working_days(start, n)`` counts n full working days of working time: created Monday 10:00,
three working days are due Thursday 10:00; created Saturday, one working day is due Monday at
closing time. Working time is additive — ``working_time_between(a, b) +
working_time_between(b, c) == working_time_between(a, c)`` — so a clock that pauses while the
customer is asked sums its running segments (``working_time_total``).
"""

from __future__ import annotations

import datetime
import functools
import itertools
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import chinese_calendar

# A calendar with no working day for this long is misconfigured; stop instead of looping.
MAX_DAYS_SEARCHED = 3660

Period = tuple[datetime.time, datetime.time]
DEFAULT_PERIODS: tuple[Period, ...] = (
    (datetime.time(9, 0), datetime.time(12, 0)),
    (datetime.time(13, 0), datetime.time(18, 0)),
)


def package_knows(year: int) -> bool:
    """Whether the installed chinese-calendar package has the holiday schedule of ``year``."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _package_workday(day: datetime.date) -> bool | None:
    """The package's answer for ``day``, ``None`` for a year it does not know. Cached: the
    package checks every date against the range of its whole table (some 30 µs a call), and an
    SLA deadline three weeks out asks about each day on the way."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class BusinessCalendar:
    """Working periods of a day, the admin's overrides (date → is a workday) and the zone."""

    periods: tuple[Period, ...] = DEFAULT_PERIODS
    overrides: Mapping[datetime.date, bool] = field(default_factory=dict)
    tz: datetime.tzinfo = field(default_factory=lambda: zoneinfo.ZoneInfo("Asia/Shanghai"))

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("A business calendar needs at least one working period.")
        ends = [moment for period in self.periods for moment in period]
        if any(later <= earlier for earlier, later in itertools.pairwise(ends)):
            raise ValueError("Working periods must be ordered and must not overlap.")

    # Days -----------------------------------------------------------------------------------

    def is_workday(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = _package_workday(day)
        return day.weekday() < 5 if known is None else known

    @property
    def day_length(self) -> datetime.timedelta:
        """Working time in one working day."""
        base = datetime.date(2000, 1, 1)
        return sum(
            (
                datetime.datetime.combine(base, end) - datetime.datetime.combine(base, start)
                for start, end in self.periods
            ),
            datetime.timedelta(),
        )

    def _windows(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The day's working periods as aware datetimes; none on a day off."""
        if not self.is_workday(day):
            return []
        return [
            (
                datetime.datetime.combine(day, start, tzinfo=self.tz),
                datetime.datetime.combine(day, end, tzinfo=self.tz),
            )
            for start, end in self.periods
        ]

    def _local(self, moment: datetime.datetime) -> datetime.datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("Business-calendar arithmetic needs aware datetimes.")
        return moment.astimezone(self.tz)

    # Arithmetic -----------------------------------------------------------------------------

    def is_working_time(self, moment: datetime.datetime) -> bool:
        local = self._local(moment)
        return any(start <= local < end for start, end in self._windows(local.date()))

    def next_working_moment(self, moment: datetime.datetime) -> datetime.datetime:
        """``moment`` itself during working time, else the start of the next working period."""
        local = self._local(moment)
        day = local.date()
        for _offset in range(MAX_DAYS_SEARCHED):
            for start, end in self._windows(day):
                if local < end:
                    return max(local, start)
            day += datetime.timedelta(days=1)
        raise ValueError("The business calendar has no working day within ten years.")

    def add_working_time(
        self, start: datetime.datetime, duration: datetime.timedelta
    ) -> datetime.datetime:
        """The moment when ``duration`` of working time has passed since ``start``.

        A duration that ends exactly at closing time ends then, not at the next opening.
        """
        if duration < datetime.timedelta():
            raise ValueError("A working-time duration cannot be negative.")
        local = self._local(start)
        if not duration:
            return local
        remaining = duration
        day = local.date()
        for _offset in range(MAX_DAYS_SEARCHED):
            for window_start, window_end in self._windows(day):
                begin = max(local, window_start)
                if begin >= window_end:
                    continue
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += datetime.timedelta(days=1)
        raise ValueError("The business calendar has no working day within ten years.")

    def add_working_days(self, start: datetime.datetime, days: int) -> datetime.datetime:
        """``days`` full working days of working time after ``start`` (see the module doc)."""
        if days < 0:
            raise ValueError("The number of working days cannot be negative.")
        return self.add_working_time(start, self.day_length * days)

    def working_time_between(
        self, start: datetime.datetime, end: datetime.datetime
    ) -> datetime.timedelta:
        """Working time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        local_start, local_end = self._local(start), self._local(end)
        total = datetime.timedelta()
        if local_end <= local_start:
            return total
        day = local_start.date()
        while day <= local_end.date():
            for window_start, window_end in self._windows(day):
                begin, finish = max(local_start, window_start), min(local_end, window_end)
                if finish > begin:
                    total += finish - begin
            day += datetime.timedelta(days=1)
        return total

    def working_time_total(
        self, segments: Iterable[tuple[datetime.datetime, datetime.datetime]]
    ) -> datetime.timedelta:
        """Working time summed over ``(start, end)`` segments, e.g. a clock's running spans."""
        return sum(
            (self.working_time_between(start, end) for start, end in segments),
            datetime.timedelta(),
        )


def company_calendar() -> BusinessCalendar:
    """The company's calendar from admin settings: working hours, day overrides and time zone.

    Cached (the SLA sweep reads it every minute); saving working hours or a calendar day
    clears the cache.
    """
    from django.core.cache import cache

    from crm.core.models import CompanySettings
    from tickets.models.calendar import CALENDAR_CACHE_KEY, CalendarDay, WorkingHours

    cached = cache.get(CALENDAR_CACHE_KEY)
    if cached is not None:
        return cached
    hours = WorkingHours.objects.filter(pk=1).first() or WorkingHours()
    overrides = {
        day: kind == CalendarDay.Kind.WORKDAY
        for day, kind in CalendarDay.objects.values_list("date", "kind")
    }
    calendar = BusinessCalendar(
        periods=hours.periods(),
        overrides=overrides,
        tz=zoneinfo.ZoneInfo(CompanySettings.load().time_zone),
    )
    cache.set(CALENDAR_CACHE_KEY, calendar, 300)
    return calendar


def add_working_time(start: datetime.datetime, duration: datetime.timedelta) -> datetime.datetime:
    return company_calendar().add_working_time(start, duration)


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    return company_calendar().add_working_days(start, days)


def working_time_between(start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    return company_calendar().working_time_between(start, end)


def working_time_total(
    segments: Iterable[tuple[datetime.datetime, datetime.datetime]],
) -> datetime.timedelta:
    return company_calendar().working_time_total(segments)


def is_working_time(moment: datetime.datetime) -> bool:
    return company_calendar().is_working_time(moment)


def year_has_data(year: int) -> bool:
    """Whether the holidays of ``year`` are known: from the package or the admin's table."""
    from tickets.models.calendar import CalendarDay

    return package_knows(year) or CalendarDay.objects.in_year(year).exists()


def warn_missing_next_year(*, today: datetime.date) -> bool:
    """In December, tells the admins once when next year's holidays are unknown (neither the
    package nor the admin's table has them), so SLA clocks do not run on weekends alone."""
    from django.db.models import Q
    from django.urls import reverse

    from crm.accounts.models import User
    from crm.accounts.roles import Role
    from crm.core.models import Heartbeat
    from crm.notifications.services import notify

    year = today.year + 1
    if today.month != 12 or year_has_data(year):
        return False
    # The marker row makes the warning once per year, however often the job runs.
    _marker, created = Heartbeat.objects.get_or_create(
        name=f"tickets.calendar-warning-{year}",
        defaults={"beat_at": datetime.datetime.now(tz=datetime.UTC)},
    )
    if not created:
        return False
    admins = User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN)).distinct()
    notify(
        list(admins),
        "calendar_year_missing",
        url=reverse("admin:tickets_calendarday_changelist"),
        context={"year": year},
    )
    return True
