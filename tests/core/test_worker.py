"""A real Celery worker with an embedded beat, against Redis and the test database."""

import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.core.models import Heartbeat
from tests.worker import needs_worker, running_worker

pytestmark = needs_worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_schedules_a_task_that_a_real_worker_runs():
    PeriodicTask.objects.all().delete()
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="test heartbeat", task="crm.core.tasks.record_heartbeat", interval=every_second
    )
    with running_worker(beat=True) as worker:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Heartbeat.objects.exists():
            if worker.process.poll() is not None:
                break
            time.sleep(0.5)
        beat = Heartbeat.objects.first()
    assert beat is not None, f"no heartbeat from the worker; its log:\n{worker.output[-4000:]}"
    assert "crm.core.tasks.record_heartbeat" in worker.output
