from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from crm.core import schedules


class Command(BaseCommand):
    help = "Creates or updates the periodic jobs that the apps declare (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        for schedule in schedules.all_schedules():
            defaults: dict[str, object] = {
                "task": schedule.task,
                "description": str(schedule.description),
                "interval": None,
                "crontab": None,
            }
            if schedule.every_seconds is not None:
                defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=schedule.every_seconds, period=IntervalSchedule.SECONDS
                )
            else:
                minute, hour, day_of_month, month_of_year, day_of_week = (
                    schedule.crontab or ""
                ).split()
                defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=day_of_month,
                    month_of_year=month_of_year,
                    day_of_week=day_of_week,
                    timezone=settings.TIME_ZONE,
                )
            task, created = PeriodicTask.objects.get_or_create(
                name=schedule.name, defaults=defaults
            )
            # Keep what an admin changed (interval, enabled); only the task path follows code.
            if not created and task.task != schedule.task:
                task.task = schedule.task
                task.save(update_fields=["task"])
            self.stdout.write(f"{'created' if created else 'kept'}: {schedule.name}")
