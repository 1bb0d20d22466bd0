"""The customer dashboard: tiers, lifecycle movement, follow-up timeliness."""

import datetime

import pytest
from django.utils import timezone

from analytics import dashboards
from analytics.forms import FilterForm
from customers.models import Customer
from followups import services as followups
from followups.models import FollowUpMethod
from tests.analytics.conftest import JUNE, at


def board_for(user, **params):
    dashboard = dashboards.get("customers")
    form = FilterForm({**JUNE, **params}, user=user, dimensions=dashboard.dimensions)
    assert form.is_valid(), form.errors
    return dashboard.build(form.scope())


def test_tiers_count_the_customers_in_scope(pipeline_world, manager, charlie):
    Customer.objects.filter(owner=charlie).update(value_tier="high", activity_tier="low")
    Customer.objects.filter(name="杭州东方机械有限公司").update(value_tier="medium")
    board = board_for(manager)
    value = board.chart("value_tiers")
    assert dict(zip(value.categories, (p.value for p in value.series[0].points), strict=True)) == {
        "中": 1,
        "未计算": 1,
    }
    assert board.kpi("customers").value == 2
    assert board_for(charlie).chart("value_tiers").categories == ["高"]


def test_lifecycle_movement_counts_customers_entering_each_stage(pipeline_world, manager):
    lifecycle = board_for(manager).chart("lifecycle")
    entered = {series.name: sum(p.value for p in series.points) for series in lifecycle.series}
    # Two customers were created (first contact); o1's order made one of them cooperating.
    assert entered["首次接触"] == 2
    assert entered["合作中"] == 1
    assert entered["流失"] == 0


def done(task, by):
    followups.record_create(
        customer=task.customer,
        by=by,
        task=task,
        occurred_at=timezone.now(),
        method=FollowUpMethod.objects.get(code="phone"),
        topic="电话回访",
        summary="确认了交付时间",
        next_step="下周发送报价单",
        next_step_at=timezone.now() + datetime.timedelta(days=7),
    )


def test_timeliness_counts_tasks_done_on_time_late_or_not_at_all(
    june, alice, manager, make_customer
):
    customer = make_customer(alice, "杭州准时科技有限公司")
    tasks = [
        followups.task_create(
            customer=customer, owner=alice, by=alice, title=f"回访{n}", due_at=at(n)
        )
        for n in (1, 2, 3)
    ]
    june.move_to(at(1) - datetime.timedelta(hours=1))
    done(tasks[0], alice)  # on time
    june.move_to(at(5))
    done(tasks[1], alice)  # three days late; the third is not done
    chart = board_for(manager).chart("timeliness")
    row = dict(
        zip((s.name for s in chart.series), (s.points[0].value for s in chart.series), strict=True)
    )
    assert (row["准时"], row["逾期完成"], row["未完成"]) == (1, 1, 1)
    assert board_for(manager).kpi("on_time").value == pytest.approx(33.3)
    assert timezone.now() == at(5)
