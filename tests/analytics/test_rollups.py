"""The daily rollups behind the customers dashboard and the sales dashboard's time in stage:
the triggers keep them equal to counting the follow-up records and tasks, and the stays in a
stage, themselves, whatever writes those rows."""

import datetime

import pytest
from django.db import connection
from django.db.models import BigIntegerField, Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics import rollups
from analytics.models import RecordDay, StageDay, TaskDay
from crm.core.models import CompanySettings
from followups import services as followups
from followups.models import FollowUpMethod, FollowUpRecord, FollowUpTask
from opportunities.models import Opportunity, StageVisit
from tests.analytics import test_sales
from tests.analytics.conftest import SHANGHAI, at
from tests.analytics.test_customers import board_for

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the rollups are kept by Postgres triggers"
)

Status = FollowUpTask.Status


def counted_records(zone=SHANGHAI):
    rows = (
        FollowUpRecord.objects.annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values_list("day", "owner_id", "method_id")
        .annotate(total=Count("*"))
    )
    return {(day, owner, method): total for day, owner, method, total in rows}


def rolled_up_records():
    rows = RecordDay.objects.exclude(records=0)
    return {(r.day, r.owner_id, r.method_id): r.records for r in rows}


def counted_tasks(zone=SHANGHAI):
    rows = (
        FollowUpTask.objects.exclude(status=Status.CANCELLED)
        .annotate(day=TruncDate("due_at", tzinfo=zone))
        .values_list("day", "owner_id")
        .annotate(
            on_time=Count("pk", filter=Q(status=Status.DONE, completed_at__lte=F("due_at"))),
            late=Count("pk", filter=Q(status=Status.DONE, completed_at__gt=F("due_at"))),
            missed=Count("pk", filter=Q(status=Status.PENDING)),
        )
    )
    return {(day, owner): counts for day, owner, *counts in rows if any(counts)}


def rolled_up_tasks():
    rows = TaskDay.objects.exclude(on_time=0, late=0, missed=0)
    return {(r.day, r.owner_id): [r.on_time, r.late, r.missed] for r in rows}


@pytest.fixture
def world(june, alice, bob, make_customer):
    customer = make_customer(alice, "杭州汇总科技有限公司")
    phone, visit = (FollowUpMethod.objects.get(code=code) for code in ("phone", "visit"))
    return customer, phone, visit


def record(customer, by, method, when):
    return followups.record_create(
        customer=customer,
        by=by,
        occurred_at=when,
        method=method,
        topic="电话回访",
        summary="确认了交付时间",
        next_step="下周发送报价单",
        next_step_at=when + datetime.timedelta(days=7),
    )


def test_records_rollup_follows_every_kind_of_write(world, alice, bob):
    customer, phone, visit = world
    first = record(customer, alice, phone, at(1))
    record(customer, alice, phone, at(1))
    late_evening = at(2).replace(hour=23, minute=30)  # 15:30 UTC: still the 3rd in Shanghai
    moved = record(customer, bob, visit, late_evening)
    assert rolled_up_records() == counted_records()
    assert rolled_up_records()[(at(1).date(), alice.pk, phone.pk)] == 2

    first.occurred_at = at(4)  # a saved change moves it to another day and method
    first.method = visit
    first.save()
    FollowUpRecord.objects.filter(pk=moved.pk).update(owner=alice)  # one UPDATE, no save()
    FollowUpRecord.objects.bulk_create(
        [
            FollowUpRecord(
                customer=customer,
                owner=bob,
                occurred_at=at(day),
                method=phone,
                topic="批量",
                summary="批量",
                next_step="批量",
                next_step_at=at(day),
            )
            for day in (5, 5, 6)
        ]
    )
    assert rolled_up_records() == counted_records()

    FollowUpRecord.objects.filter(owner=bob).delete()
    FollowUpRecord.objects.filter(topic="电话回访").update(topic="回访")  # nothing to count
    assert rolled_up_records() == counted_records()
    assert sum(rolled_up_records().values()) == 3


def test_tasks_rollup_follows_completion_cancellation_and_transfer(world, june, alice, bob):
    customer, phone, _visit = world
    tasks = [
        followups.task_create(
            customer=customer, owner=alice, by=alice, title=f"回访{n}", due_at=at(n)
        )
        for n in (1, 2, 3, 4)
    ]
    assert rolled_up_tasks() == counted_tasks()
    june.move_to(at(1) - datetime.timedelta(hours=1))
    record_done(tasks[0], alice, phone)  # on time
    june.move_to(at(5))
    record_done(tasks[1], alice, phone)  # late
    followups.task_cancel(task=tasks[2], by=alice)
    moved = followups.task_transfer(task=tasks[3], to_user=bob, by=alice, reason="休假")
    followups.task_reschedule(task=moved, due_at=at(9), by=bob)
    assert rolled_up_tasks() == counted_tasks()
    assert rolled_up_tasks() == {
        (at(1).date(), alice.pk): [1, 0, 0],
        (at(2).date(), alice.pk): [0, 1, 0],
        (at(9).date(), bob.pk): [0, 0, 1],
    }


def record_done(task, by, method):
    followups.record_create(
        customer=task.customer,
        by=by,
        task=task,
        occurred_at=timezone.now(),
        method=method,
        topic="电话回访",
        summary="确认了交付时间",
        next_step="下周发送报价单",
        next_step_at=timezone.now() + datetime.timedelta(days=7),
    )


def test_a_new_time_zone_recounts_the_days(world, alice):
    customer, phone, _visit = world
    record(customer, alice, phone, at(2).replace(hour=2))  # 2 a.m. in Shanghai: the 2nd in London
    company = CompanySettings.load()
    company.time_zone = "Europe/London"
    company.save()
    london = datetime.timezone(datetime.timedelta(hours=1))  # British summer time in June
    assert rolled_up_records() == counted_records(london)
    assert list(rolled_up_records()) == [(at(1).date(), alice.pk, phone.pk)]
    RecordDay.objects.all().delete()
    rollups.rebuild()
    assert rolled_up_records() == counted_records(london)


def test_timeliness_counts_today_from_the_tasks(world, june, alice, manager):
    """Today's tasks are still falling due: those due by now count, the rest not yet."""
    customer, _phone, _visit = world
    june.move_to(at(3))
    for hours in (-30, -2, 3):  # yesterday (from the rollup), earlier today, later today
        followups.task_create(
            customer=customer,
            owner=alice,
            by=alice,
            title="回访",
            due_at=at(3) + datetime.timedelta(hours=hours),
        )
    chart = board_for(manager).chart("timeliness")
    missed = next(series for series in chart.series if series.name == "未完成")
    assert [point.value for point in missed.points] == [2]


def counted_stays(zone=SHANGHAI):
    rows = (
        StageVisit.objects.filter(left_at__isnull=False)
        .annotate(day=TruncDate("left_at", tzinfo=zone))
        .values_list("day", "opportunity__owner_id", "stage_id")
        .annotate(stays=Count("*"), spent=Sum(F("left_at") - F("entered_at")))
    )
    return {(day, owner, stage): (stays, spent) for day, owner, stage, stays, spent in rows}


def rolled_up_stays():
    rows = StageDay.objects.exclude(stays=0)
    return {
        (r.day, r.owner_id, r.stage_id): (r.stays, datetime.timedelta(microseconds=r.micros))
        for r in rows
    }


def stage_days(manager):
    chart = test_sales.board_for(manager)[1].chart("stage_time")
    return dict(zip(chart.categories, test_sales.values(chart), strict=True))


def test_stays_rollup_follows_moves_transfers_edits_and_deletes(
    pipeline_world, alice, charlie, manager, stage
):
    # Closed stays: o1's four (lead to proposal, then won), o2's and o5's two each.
    assert rolled_up_stays() == counted_stays()
    assert sum(stays for stays, _spent in rolled_up_stays().values()) == 8
    assert stage_days(manager)["线索获取"] == 2.0  # team A's: o1 and o2, two days each

    o1, o2 = pipeline_world["o1"], pipeline_world["o2"]
    o1.refresh_from_db()
    o1.owner = charlie  # a saved transfer moves its stays to the new owner's
    o1.save()
    StageVisit.objects.filter(opportunity=o2, stage=stage("lead")).update(
        entered_at=F("entered_at") - datetime.timedelta(days=2)  # one UPDATE, no save()
    )
    assert rolled_up_stays() == counted_stays()
    assert stage_days(manager)["线索获取"] == 4.0  # o2 alone is team A's now, 4 days in lead

    Opportunity.objects.filter(pk=o1.pk).update(owner=alice)  # and back, in one UPDATE
    Opportunity.objects.get(pk=o2.pk).delete()  # its stays go with it
    assert rolled_up_stays() == counted_stays()
    assert stage_days(manager)["线索获取"] == 2.0


def test_a_new_time_zone_recounts_the_stays(pipeline_world):
    company = CompanySettings.load()
    company.time_zone = "Europe/London"
    company.save()
    london = datetime.timezone(datetime.timedelta(hours=1))  # British summer time in June
    assert rolled_up_stays() == counted_stays(london)
    StageDay.objects.all().delete()
    rollups.rebuild()
    assert rolled_up_stays() == counted_stays(london)


def test_one_update_of_many_deals_moves_only_the_transferred_stays(
    pipeline_world, alice, charlie, manager
):
    o1, o5 = pipeline_world["o1"], pipeline_world["o5"]
    o1.refresh_from_db()
    o1.save()  # a session's first save plans the trigger for one row against one
    # One statement over every deal: o1 (alice's) goes to charlie, o5 (charlie's) to alice,
    # the others keep their owner.
    Opportunity.objects.update(
        owner=Case(
            When(pk=o1.pk, then=Value(charlie.pk)),
            When(pk=o5.pk, then=Value(alice.pk)),
            default=F("owner"),
            output_field=BigIntegerField(),
        )
    )
    assert rolled_up_stays() == counted_stays()
    owners = {owner for _day, owner, _stage in rolled_up_stays()}
    assert owners == {alice.pk, charlie.pk}


def test_the_owner_trigger_never_compares_every_old_row_with_every_new(pipeline_world):
    """With no owner changed, a join of the two transition tables planned for its first match
    (EXISTS) compared each row of one with each of the other: an UPDATE of 52,000 deals ran for
    minutes. Read from the plans auto_explain reports for the trigger's statements."""
    plans = []
    psycopg_connection = connection.connection
    psycopg_connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute("SET LOCAL auto_explain.log_min_duration = 0")
        cursor.execute("SET LOCAL auto_explain.log_nested_statements = on")
        cursor.execute("SET LOCAL auto_explain.log_level = notice")
        Opportunity.objects.filter(pk=pipeline_world["o1"].pk).update(name="数控机床采购（一期）")
        Opportunity.objects.update(name=F("name"))  # every deal, no owner changed
        cursor.execute("SET LOCAL auto_explain.log_min_duration = -1")
    trigger_plans = [plan for plan in plans if "old_rows" in plan and "new_rows" in plan]
    assert trigger_plans
    for plan in trigger_plans:
        assert "Nested Loop" not in plan, plan
