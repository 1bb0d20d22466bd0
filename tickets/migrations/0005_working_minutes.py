import datetime
import zoneinfo

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Working minutes of the tickets already answered or resolved, on the company calendar as
    configured now."""
    from tickets.calendar import DEFAULT_PERIODS, BusinessCalendar

    Ticket = apps.get_model("tickets", "Ticket")
    WorkingHours = apps.get_model("tickets", "WorkingHours")
    CalendarDay = apps.get_model("tickets", "CalendarDay")
    CompanySettings = apps.get_model("core", "CompanySettings")
    hours = WorkingHours.objects.filter(pk=1).first()
    periods = DEFAULT_PERIODS
    if hours is not None:
        periods = (
            ((hours.day_start, hours.lunch_start), (hours.lunch_end, hours.day_end))
            if hours.lunch_start and hours.lunch_end
            else ((hours.day_start, hours.day_end),)
        )
    company = CompanySettings.objects.filter(pk=1).first()
    calendar = BusinessCalendar(
        periods=periods,
        overrides={
            day: kind == "workday" for day, kind in CalendarDay.objects.values_list("date", "kind")
        },
        tz=zoneinfo.ZoneInfo(company.time_zone if company else "Asia/Shanghai"),
    )
    tickets = Ticket.objects.filter(first_responded_at__isnull=False).only(
        "created_at", "first_responded_at", "resolved_at", "closed_at", "paused_total"
    )
    for ticket in tickets.iterator(chunk_size=1000):
        ticket.response_minutes = int(
            calendar.working_time_between(ticket.created_at, ticket.first_responded_at)
            .total_seconds() // 60
        )
        resolved = ticket.resolved_at or ticket.closed_at
        if resolved is not None:
            running = calendar.working_time_between(ticket.created_at, resolved)
            running -= ticket.paused_total
            ticket.resolution_minutes = int(max(running, datetime.timedelta()).total_seconds() // 60)
        ticket.save(update_fields=["response_minutes", "resolution_minutes"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("tickets", "0004_queue_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="resolution_minutes",
            field=models.PositiveIntegerField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="resolution (working minutes)",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="response_minutes",
            field=models.PositiveIntegerField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="first response (working minutes)",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
