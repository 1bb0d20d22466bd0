"""The company business calendar (工作日历): working hours and the admin's holiday table.

``tickets.calendar`` reads these rows; SLA clocks run on it.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

CALENDAR_CACHE_KEY = "tickets:business-calendar"


class WorkingHours(models.Model):
    """The one row of the company's working hours, with an optional lunch break."""

    day_start = models.TimeField(_("work starts"), default=datetime.time(9, 0))
    lunch_start = models.TimeField(
        _("lunch break starts"),
        null=True,
        blank=True,
        default=datetime.time(12, 0),
        help_text=_("Leave both lunch times empty for a day without a break."),
    )
    lunch_end = models.TimeField(
        _("lunch break ends"), null=True, blank=True, default=datetime.time(13, 0)
    )
    day_end = models.TimeField(_("work ends"), default=datetime.time(18, 0))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        if self.lunch_start and self.lunch_end:
            return (
                f"{self.day_start:%H:%M}–{self.lunch_start:%H:%M}, "
                f"{self.lunch_end:%H:%M}–{self.day_end:%H:%M}"
            )
        return f"{self.day_start:%H:%M}–{self.day_end:%H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton: there is only ever one row
        super().save(*args, **kwargs)
        cache.delete(CALENDAR_CACHE_KEY)

    def clean(self) -> None:
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise ValidationError(_("Give both ends of the lunch break, or neither."))
        given = [self.day_start, self.lunch_start, self.lunch_end, self.day_end]
        times = [value for value in given if value is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(times)):
            raise ValidationError(
                _("Working hours must run in order: start, lunch break, end, within one day.")
            )

    def periods(self) -> tuple[tuple[datetime.time, datetime.time], ...]:
        if self.lunch_start and self.lunch_end:
            return ((self.day_start, self.lunch_start), (self.lunch_end, self.day_end))
        return ((self.day_start, self.day_end),)


class CalendarDayQuerySet(models.QuerySet["CalendarDay"]):
    def in_year(self, year: int) -> CalendarDayQuerySet:
        return self.filter(date__year=year)


class CalendarDay(models.Model):
    """A day the admin declares off or on (放假 / 调休上班), overriding chinese-calendar.

    The package knows the State Council's schedule only up to its release; this table carries
    the years after it, and corrects any day the package has wrong.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (day off)")
        WORKDAY = "workday", _("Make-up workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(
        _("name"), max_length=50, blank=True, help_text=_("For example 春节 or 国庆节.")
    )

    objects = CalendarDayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        cache.delete(CALENDAR_CACHE_KEY)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        cache.delete(CALENDAR_CACHE_KEY)
        return result
