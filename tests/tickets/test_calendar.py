"""The business calendar: working hours, weekends, China's holidays and make-up workdays.

Dates are real: the 2026 Spring Festival holiday runs Sunday 15 February to Monday 23 February,
with make-up workdays on Saturday 14 and Saturday 28 February; 2025's ran 28 January to
4 February with make-up Sunday 26 January and Saturday 8 February.
"""

import datetime
import zoneinfo

import pytest
import time_machine

from tickets import calendar
from tickets.calendar import BusinessCalendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOUR = datetime.timedelta(hours=1)
WORKING_DAY = datetime.timedelta(hours=8)  # 09:00–12:00 and 13:00–18:00


def at(day: str, time: str = "00:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar()


class TestDays:
    def test_weekdays_work_and_weekends_rest(self, cal):
        assert cal.is_workday(datetime.date(2026, 3, 2))  # Monday
        assert not cal.is_workday(datetime.date(2026, 3, 7))  # Saturday

    def test_spring_festival_is_off_and_its_make_up_saturdays_work(self, cal):
        assert not cal.is_workday(datetime.date(2026, 2, 16))  # Monday in the holiday
        assert not cal.is_workday(datetime.date(2026, 2, 23))
        assert cal.is_workday(datetime.date(2026, 2, 14))  # Saturday, 调休上班
        assert cal.is_workday(datetime.date(2026, 2, 28))
        assert cal.is_workday(datetime.date(2025, 1, 26))  # Sunday, 调休上班

    def test_years_the_package_does_not_know_fall_back_to_weekdays(self, cal):
        assert not calendar.package_knows(2027)
        assert cal.is_workday(datetime.date(2027, 1, 4))  # Monday
        assert not cal.is_workday(datetime.date(2027, 1, 9))  # Saturday

    def test_overrides_win_over_the_package_and_the_fallback(self):
        cal = BusinessCalendar(
            overrides={datetime.date(2027, 2, 8): False, datetime.date(2026, 2, 16): True}
        )
        assert not cal.is_workday(datetime.date(2027, 2, 8))
        assert cal.is_workday(datetime.date(2026, 2, 16))


class TestAddWorkingTime:
    def test_within_a_morning(self, cal):
        assert cal.add_working_time(at("2026-03-02", "09:30"), 2 * HOUR) == at(
            "2026-03-02", "11:30"
        )

    def test_skips_the_lunch_break(self, cal):
        assert cal.add_working_time(at("2026-03-02", "11:00"), 2 * HOUR) == at(
            "2026-03-02", "14:00"
        )

    def test_crosses_the_night(self, cal):
        assert cal.add_working_time(at("2026-03-02", "17:00"), 2 * HOUR) == at(
            "2026-03-03", "10:00"
        )

    def test_ends_at_closing_time_rather_than_next_morning(self, cal):
        assert cal.add_working_time(at("2026-03-02", "16:00"), 2 * HOUR) == at(
            "2026-03-02", "18:00"
        )

    def test_crosses_a_weekend(self, cal):
        friday = at("2026-03-06", "17:00")
        assert cal.add_working_time(friday, 2 * HOUR) == at("2026-03-09", "10:00")

    def test_starts_outside_hours_at_the_next_opening(self, cal):
        saturday_night = at("2026-03-07", "22:00")
        assert cal.add_working_time(saturday_night, HOUR) == at("2026-03-09", "10:00")
        before_opening = at("2026-03-09", "07:00")
        assert cal.add_working_time(before_opening, HOUR) == at("2026-03-09", "10:00")

    def test_spring_festival_holiday_is_skipped_and_make_up_saturday_counts(self, cal):
        # Friday 13 February 17:00 + 2 h: the make-up Saturday 14th works, so 10:00 on the 14th.
        assert cal.add_working_time(at("2026-02-13", "17:00"), 2 * HOUR) == at(
            "2026-02-14", "10:00"
        )
        # Saturday 14th 17:00 + 2 h: the holiday runs to the 23rd, so 10:00 on Tuesday 24th.
        assert cal.add_working_time(at("2026-02-14", "17:00"), 2 * HOUR) == at(
            "2026-02-24", "10:00"
        )

    def test_accepts_utc_input_and_answers_in_company_time(self, cal):
        utc_start = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)  # 09:00 Shanghai
        result = cal.add_working_time(utc_start, HOUR)
        assert result == at("2026-03-02", "10:00")
        assert result.tzinfo == SHANGHAI

    def test_zero_returns_the_start_and_negative_is_refused(self, cal):
        start = at("2026-03-07", "22:00")
        assert cal.add_working_time(start, datetime.timedelta()) == start
        with pytest.raises(ValueError, match="negative"):
            cal.add_working_time(start, -HOUR)

    def test_naive_datetimes_are_refused(self, cal):
        with pytest.raises(ValueError, match="aware"):
            cal.add_working_time(datetime.datetime(2026, 3, 2, 9, 0), HOUR)  # noqa: DTZ001

    def test_a_long_duration_steps_by_days(self, cal):
        # 40 working days from 2 March 2026 land on 28 April (no holiday but 清明 5–6 April,
        # a Sunday and Monday: 6 April is off).
        result = cal.add_working_time(at("2026-03-02", "09:00"), 40 * WORKING_DAY)
        assert result == at("2026-04-27", "18:00")


class TestAddWorkingDays:
    def test_same_time_n_working_days_later(self, cal):
        assert cal.add_working_days(at("2026-03-02", "10:00"), 3) == at("2026-03-05", "10:00")

    def test_over_a_weekend(self, cal):
        assert cal.add_working_days(at("2026-03-06", "17:00"), 1) == at("2026-03-09", "17:00")

    def test_started_on_a_day_off_counts_whole_days(self, cal):
        assert cal.add_working_days(at("2026-03-07", "10:00"), 1) == at("2026-03-09", "18:00")

    def test_over_the_spring_festival(self, cal):
        # Created Friday 13 February 10:00; the 14th (make-up Saturday) is day one, the 24th two.
        assert cal.add_working_days(at("2026-02-13", "10:00"), 2) == at("2026-02-24", "10:00")
        # 2025: Friday 24 January, then make-up Sunday 26th, Monday 27th, holiday, Wed 5 Feb.
        assert cal.add_working_days(at("2025-01-24", "10:00"), 3) == at("2025-02-05", "10:00")

    def test_negative_is_refused(self, cal):
        with pytest.raises(ValueError, match="negative"):
            cal.add_working_days(at("2026-03-02", "10:00"), -1)


class TestWorkingTimeBetween:
    def test_a_day_with_a_lunch_break(self, cal):
        assert cal.working_time_between(at("2026-03-02"), at("2026-03-03")) == WORKING_DAY
        assert cal.working_time_between(at("2026-03-02", "11:00"), at("2026-03-02", "14:00")) == (
            2 * HOUR
        )

    def test_a_weekend_counts_nothing(self, cal):
        assert cal.working_time_between(at("2026-03-07"), at("2026-03-09")) == datetime.timedelta()

    def test_the_spring_festival_week(self, cal):
        # 13 Feb (Fri) to 25 Feb (Wed) midnight: 13th, make-up 14th, then 24th — three days.
        assert cal.working_time_between(at("2026-02-13"), at("2026-02-25")) == 3 * WORKING_DAY

    def test_end_before_start_is_zero(self, cal):
        assert cal.working_time_between(at("2026-03-03"), at("2026-03-02")) == datetime.timedelta()

    def test_is_the_inverse_of_add_working_time(self, cal):
        start = at("2026-02-12", "15:20")
        for hours in (1, 5, 8, 17, 40):
            end = cal.add_working_time(start, hours * HOUR)
            assert cal.working_time_between(start, end) == hours * HOUR

    def test_segments_add_up_so_a_paused_clock_can_be_summed(self, cal):
        a, b, c = at("2026-02-13", "10:00"), at("2026-02-14", "15:00"), at("2026-02-24", "11:00")
        assert cal.working_time_between(a, b) + cal.working_time_between(b, c) == (
            cal.working_time_between(a, c)
        )
        # Running 13th 10:00 → 14th 15:00, paused until 24th 09:30, running again to 11:00.
        running = [(a, b), (at("2026-02-24", "09:30"), c)]
        assert cal.working_time_total(running) == (
            7 * HOUR + 5 * HOUR + datetime.timedelta(minutes=90)
        )


class TestCompanyCalendar:
    """The module-level API reads working hours and overrides from admin."""

    def test_defaults_without_settings(self, db):
        assert calendar.add_working_time(at("2026-03-02", "17:30"), HOUR) == at(
            "2026-03-03", "09:30"
        )

    def test_working_hours_from_admin_apply(self, db):
        from tickets.models.calendar import WorkingHours

        calendar.company_calendar()  # cached now; saving must clear it
        WorkingHours(
            day_start=datetime.time(8, 30),
            lunch_start=None,
            lunch_end=None,
            day_end=datetime.time(17, 30),
        ).save()
        assert calendar.add_working_days(at("2026-03-02", "08:30"), 1) == at("2026-03-02", "17:30")
        assert calendar.working_time_between(at("2026-03-02"), at("2026-03-03")) == 9 * HOUR

    def test_an_admin_holiday_in_an_unknown_year_is_skipped(self, db):
        from tickets.models.calendar import CalendarDay

        calendar.company_calendar()
        CalendarDay.objects.create(
            date=datetime.date(2027, 1, 4), kind=CalendarDay.Kind.HOLIDAY, name="元旦"
        )
        assert calendar.add_working_time(at("2027-01-01", "17:00"), 2 * HOUR) == at(
            "2027-01-05", "10:00"
        )
        assert calendar.year_has_data(2027)
        assert not calendar.year_has_data(2028)

    def test_lunch_break_must_be_whole_and_ordered(self, db):
        from django.core.exceptions import ValidationError

        from tickets.models.calendar import WorkingHours

        with pytest.raises(ValidationError):
            WorkingHours(lunch_start=datetime.time(12), lunch_end=None).clean()
        with pytest.raises(ValidationError):
            WorkingHours(day_start=datetime.time(18), day_end=datetime.time(9)).clean()

    @time_machine.travel(at("2026-03-02", "10:00"), tick=False)
    def test_is_working_time_now(self, db):
        from django.utils import timezone

        assert calendar.is_working_time(timezone.now())


class TestNextYearWarning:
    def test_admins_are_warned_once_in_december_when_next_year_is_unknown(self, admin_user):
        from crm.notifications.models import Notification

        assert calendar.warn_missing_next_year(today=datetime.date(2026, 12, 1))
        assert not calendar.warn_missing_next_year(today=datetime.date(2026, 12, 2))  # once
        assert (
            Notification.objects.filter(recipient=admin_user, verb="calendar_year_missing").count()
            == 1
        )

    def test_no_warning_outside_december_or_when_the_year_is_entered(self, admin_user):
        from tickets.models.calendar import CalendarDay

        assert not calendar.warn_missing_next_year(today=datetime.date(2026, 11, 30))
        assert not calendar.warn_missing_next_year(today=datetime.date(2025, 12, 1))  # 2026 known
        CalendarDay.objects.create(date=datetime.date(2028, 1, 1), kind=CalendarDay.Kind.HOLIDAY)
        assert not calendar.warn_missing_next_year(today=datetime.date(2027, 12, 1))
