import datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from crm.accounts.models import Team, User
from crm.core.models import CompanySettings


def test_company_settings_are_a_single_cached_row(db, django_assert_num_queries):
    company = CompanySettings.load()
    assert company.time_zone == "Asia/Shanghai"
    assert company.currency == "CNY"
    assert company.retention_years == 10
    with django_assert_num_queries(0):
        CompanySettings.load()
    company.name = "华东示范有限公司"
    company.save()
    assert CompanySettings.objects.count() == 1
    assert CompanySettings.load().name == "华东示范有限公司"


def test_pages_show_times_in_the_company_time_zone(client, alice):
    company = CompanySettings.load()
    company.time_zone = "Europe/London"
    company.save()
    client.force_login(alice)
    with time_machine.travel(datetime.datetime(2026, 1, 10, 23, 30, tzinfo=datetime.UTC)):
        html = client.get(reverse("home")).content.decode()
    assert "2026-01-10" in html  # still the 10th in London, already the 11th in Shanghai


def test_sync_schedules_creates_the_beat_jobs_once(db):
    call_command("sync_schedules")
    call_command("sync_schedules")
    task = PeriodicTask.objects.get(name="core.heartbeat")
    assert task.task == "crm.core.tasks.record_heartbeat"
    assert task.interval.every == 60
    assert PeriodicTask.objects.filter(name="core.heartbeat").count() == 1


def test_sync_schedules_keeps_an_admins_changes(db):
    call_command("sync_schedules")
    PeriodicTask.objects.filter(name="core.heartbeat").update(enabled=False)
    call_command("sync_schedules")
    assert PeriodicTask.objects.get(name="core.heartbeat").enabled is False


def test_seed_demo_is_idempotent(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Team.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Team.objects.count()) == counts
    manager = User.objects.get(username="manager")
    assert manager.check_password(settings.DEMO_PASSWORD)
    assert Team.objects.get(name="销售一组").head == manager
    rep2 = User.objects.get(username="rep2")
    # rep2 belongs to another team: the manager must not see rep2's records.
    assert rep2.team_id not in manager.visibility.team_ids


def test_seed_demo_refuses_to_run_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
