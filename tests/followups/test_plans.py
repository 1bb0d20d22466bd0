"""Plans generate their upcoming tasks on the cadence, without duplicates, until paused or ended."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from customers.models import CustomerCategory
from customers.services import customer_create
from followups.models import FollowUpPlan, FollowUpTask, Stage, TaskTemplate
from followups.services import plan_create, plan_generate, plan_pause, plan_update, plans_extend


@pytest.fixture
def alices_customer(alice):
    return customer_create(
        by=alice,
        owner=alice,
        name="杭州示例科技有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )


SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Monday morning in the company's time zone; the horizon ends 30 days later, 1 April 08:00.
NOW = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def make_plan(alice, alices_customer):
    def make(cadence=FollowUpPlan.Cadence.WEEKLY, **fields):
        defaults = {
            "stage": Stage.INITIAL_CONTACT,
            "cadence": cadence,
            "starts_on": datetime.date(2026, 3, 2),
            "time_of_day": datetime.time(10, 0),
        }
        return plan_create(
            customer=alices_customer, owner=alice, by=alice, **{**defaults, **fields}
        )

    return make


def due_times(plan, status=FollowUpTask.Status.PENDING):
    return list(
        plan.tasks.filter(status=status).order_by("due_at").values_list("due_at", flat=True)
    )


@pytest.mark.parametrize(
    ("cadence", "extra", "expected"),
    [
        ("weekly", {}, [at(3, 2), at(3, 9), at(3, 16), at(3, 23), at(3, 30)]),
        ("biweekly", {}, [at(3, 2), at(3, 16), at(3, 30)]),
        ("monthly", {}, [at(3, 2)]),
        ("custom", {"interval_days": 10}, [at(3, 2), at(3, 12), at(3, 22)]),
    ],
)
def test_a_plan_generates_the_next_30_days_on_its_cadence(make_plan, cadence, extra, expected):
    plan = make_plan(cadence, **extra)
    assert due_times(plan) == expected


def test_tasks_are_due_at_the_time_of_day_in_the_company_time_zone(make_plan):
    plan = make_plan()
    first = plan.tasks.earliest("due_at")
    assert first.due_at == datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)


def test_a_task_starts_from_the_script_and_the_content_points_with_its_reminder(make_plan):
    script = TaskTemplate.objects.get(name="首次电话")
    plan = make_plan(template=script, content_points="确认预算", reminder_minutes=30)
    task = plan.tasks.earliest("due_at")
    assert script.content in task.content
    assert "确认预算" in task.content
    assert task.method == script.method
    assert task.kind == FollowUpTask.Kind.PLAN
    assert task.owner == plan.owner
    assert task.remind_at == task.due_at - datetime.timedelta(minutes=30)


def test_generating_twice_creates_nothing_more(make_plan):
    plan = make_plan()
    assert plan_generate(plan=plan) == 0
    plans_extend(now=NOW)
    assert plan.tasks.count() == 5


def test_the_beat_job_extends_the_horizon_once(make_plan):
    plan = make_plan("monthly")
    later = NOW + datetime.timedelta(days=3)
    assert plans_extend(now=later) == 1
    assert plans_extend(now=later) == 0
    assert due_times(plan) == [at(3, 2), at(4, 1)]


def test_a_plan_started_long_ago_generates_only_upcoming_tasks(make_plan):
    plan = make_plan(starts_on=datetime.date(2025, 12, 1))  # a Monday
    assert due_times(plan)[0] == at(3, 2)
    assert plan.tasks.count() == 5


def test_the_end_date_stops_generation(make_plan):
    plan = make_plan(ends_on=datetime.date(2026, 3, 20))
    assert due_times(plan) == [at(3, 2), at(3, 9), at(3, 16)]
    plans_extend(now=NOW + datetime.timedelta(days=20))
    assert plan.tasks.count() == 3


def test_changing_the_cadence_cancels_off_cadence_tasks_and_fills_the_gaps(alice, make_plan):
    plan = make_plan()
    plan_update(plan=plan, by=alice, cadence=FollowUpPlan.Cadence.BIWEEKLY)
    assert due_times(plan) == [at(3, 2), at(3, 16), at(3, 30)]
    assert due_times(plan, FollowUpTask.Status.CANCELLED) == [at(3, 9), at(3, 23)]

    plan_update(plan=plan, by=alice, cadence=FollowUpPlan.Cadence.WEEKLY)
    assert due_times(plan) == [at(3, 2), at(3, 9), at(3, 16), at(3, 23), at(3, 30)]
    assert plan.tasks.count() == 5


def test_moving_the_time_of_day_moves_the_upcoming_tasks_without_duplicates(alice, make_plan):
    plan = make_plan()
    plan_update(plan=plan, by=alice, time_of_day=datetime.time(15, 0))
    plan_update(plan=plan, by=alice, time_of_day=datetime.time(15, 0))
    assert due_times(plan) == [at(3, d, 15) for d in (2, 9, 16, 23, 30)]
    assert plan.tasks.count() == 10


def test_pausing_keeps_pending_tasks_and_stops_generation(alice, make_plan):
    plan = make_plan()
    plan_pause(plan=plan, by=alice)
    plans_extend(now=NOW + datetime.timedelta(days=14))
    assert plan.tasks.pending().count() == 5
    assert plan.tasks.count() == 5


def test_resuming_a_paused_plan_generates_again(alice, make_plan):
    plan = make_plan()
    plan_pause(plan=plan, by=alice)
    with time_machine.travel(NOW + datetime.timedelta(days=7), tick=False):
        plan_update(plan=plan, by=alice, is_active=True)
    assert due_times(plan)[-1] == at(4, 6)
    assert plan.tasks.count() == 6


def test_a_colleague_cannot_plan_for_someone_else(alice, bob, alices_customer):
    with pytest.raises(PermissionDenied):
        plan_create(
            customer=alices_customer,
            owner=alice,
            by=bob,
            stage=Stage.INITIAL_CONTACT,
            cadence=FollowUpPlan.Cadence.WEEKLY,
            starts_on=datetime.date(2026, 3, 2),
        )


def test_a_manager_plans_for_a_rep_of_the_team(alice, manager, alices_customer):
    plan = plan_create(
        customer=alices_customer,
        owner=alice,
        by=manager,
        stage=Stage.NEEDS_CONFIRMATION,
        cadence=FollowUpPlan.Cadence.WEEKLY,
        starts_on=datetime.date(2026, 3, 2),
    )
    assert set(plan.tasks.values_list("owner", flat=True)) == {alice.pk}
