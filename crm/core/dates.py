"""Dates people type into forms: years 1900 to 2999 only.

A date outside them is a typo, and at the edges of what Python holds it is worse than wrong: a
time early on 1 January of the year 1 in the company's time zone is a year-0 (BC) instant in UTC,
which Postgres stores but the driver cannot read back, so every page showing the record fails;
a day near 31 December 9999 overflows as soon as a reminder offset or a cadence is added to it.
"""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 1900
LAST_YEAR = 2999


def validate_year(value: datetime.date) -> None:
    """For date and (aware) date-time values alike: a datetime is a date subclass."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            _("Enter a date in the years %(first)s to %(last)s."),
            code="year_out_of_range",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


class PlausibleDates:
    """Form mixin, listed before the form class: every date and date-time field of the form
    takes only the years ``FIRST_YEAR`` to ``LAST_YEAR``."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                field.validators.append(validate_year)
