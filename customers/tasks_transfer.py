"""Celery tasks of the customer import. Explicit names: Celery autodiscovers only
customers/tasks.py, and customers/apps.py imports this module when the app is ready."""

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.schedules import register
from customers import transfer


@shared_task(name="customers.import_run")
def import_run(job_id: int) -> None:
    """Runs a confirmed import too large for one request; a redelivered task resumes after the
    last committed batch, and a finished job is left alone."""
    transfer.import_job_run(job_id=job_id)


@shared_task(name="customers.import_resume_stalled")
def import_resume_stalled() -> int:
    return transfer.import_jobs_resume_stalled(now=timezone.now())


register(
    "customers.import_resume_stalled",
    task="customers.import_resume_stalled",
    every_seconds=300,
    description=_("Every 5 minutes: sends again the customer imports that stopped moving."),
)
