"""Follow-up journey in a real browser: a rep plans weekly contact with a customer, finds the
task in "my work", records a phone call through the modal and sees the next task scheduled."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import CustomerCategory
from customers.services import customer_create
from followups.models import FollowUpMethod, FollowUpRecord, FollowUpTask

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rep_plans_weekly_follow_ups_and_records_a_phone_call(page: Page, demo_users, sign_in):
    customer = customer_create(
        by=demo_users["rep1"],
        name="绍兴柯桥纺织机械有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )
    phone = FollowUpMethod.objects.get(code="phone")
    today = timezone.localdate()
    first_day = today + datetime.timedelta(days=1)
    sign_in("rep1")

    page.goto(customer.get_absolute_url())
    page.get_by_test_id("new-plan").click()
    page.locator("#id_stage").select_option("initial_contact")
    page.locator("#id_cadence").select_option("weekly")
    page.locator("#id_method").select_option(str(phone.pk))
    page.locator("#id_content_points").fill("了解采购计划和预算")
    page.locator("#id_starts_on").fill(first_day.isoformat())
    page.locator("#id_time_of_day").fill("10:00")
    page.get_by_test_id("save-plan").click()
    expect(page.get_by_test_id("plan-row")).to_have_count(1)

    page.goto("/followups/")
    upcoming = page.get_by_test_id("section-upcoming")
    row = upcoming.get_by_test_id("task-row").filter(has_text=customer.name)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("task-due")).to_contain_text(f"{first_day:%Y-%m-%d} 10:00")

    row.get_by_test_id("record-follow-up").click()
    form = page.locator("#record-modal").get_by_test_id("record-form")
    expect(form).to_be_visible()
    form.locator("#id_method").select_option(str(phone.pk))
    form.locator("#id_summary").fill("电话介绍了新款设备，客户关注交期")
    form.locator("#id_feedback").fill("希望下周收到报价")
    form.locator("#id_next_step").fill("跟进")  # too vague: refused
    next_step_at = today + datetime.timedelta(days=3)
    form.locator("#id_next_step_at").fill(f"{next_step_at.isoformat()}T15:00")
    form.get_by_test_id("save-record").click()
    expect(page.locator("#record-modal #id_next_step")).to_have_class(re.compile("is-invalid"))
    assert FollowUpRecord.objects.count() == 0

    page.locator("#record-modal #id_next_step").fill("发送 20 台设备的正式报价单")
    page.locator("#record-modal").get_by_test_id("save-record").click()
    # Saved: the page reloads without the done task (the next one is more than 7 days away).
    expect(page.get_by_test_id("task-row").filter(has_text=customer.name)).to_have_count(0)

    record = FollowUpRecord.objects.get()
    assert record.feedback == "希望下周收到报价"
    assert record.task.status == FollowUpTask.Status.DONE

    page.goto(customer.get_absolute_url())
    expect(page.get_by_test_id("record")).to_contain_text("发送 20 台设备的正式报价单")
    next_day = first_day + datetime.timedelta(days=7)
    expect(page.get_by_test_id("customer-task").first).to_contain_text(f"{next_day:%Y-%m-%d} 10:00")


def test_the_sidebar_shows_how_many_tasks_are_due_today(page: Page, demo_users, sign_in):
    from followups.services import task_create

    rep = demo_users["rep1"]
    customer = customer_create(
        by=rep, name="宁波港城物流有限公司", category=CustomerCategory.objects.get(name="企业客户")
    )
    due_today = FollowUpTask.objects.filter(owner=rep, status=FollowUpTask.Status.PENDING)
    end_of_today = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time()
        )
    )
    task_create(
        customer=customer,
        owner=rep,
        by=rep,
        title="确认到货",
        due_at=timezone.now() - datetime.timedelta(hours=2),
    )
    expected = due_today.filter(due_at__lt=end_of_today).count()
    sign_in("rep1")

    page.goto("/")
    expect(page.get_by_test_id("nav-count-followups")).to_contain_text(str(expected))


def test_a_rep_drags_a_task_to_another_day_and_opens_a_busy_day(page: Page, demo_users, sign_in):
    from followups.services import task_create

    rep = demo_users["rep1"]
    customer = customer_create(
        by=rep, name="温州瓯海电气有限公司", category=CustomerCategory.objects.get(name="企业客户")
    )
    day = timezone.localdate() + datetime.timedelta(days=3)
    target = day + datetime.timedelta(days=1)
    if target.month != day.month:
        target = day - datetime.timedelta(days=1)
    morning = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 30)))
    busy = FollowUpTask.objects.filter(
        owner=rep, due_at__date=day, status=FollowUpTask.Status.PENDING
    ).count()
    tasks = [
        task_create(
            customer=customer,
            owner=rep,
            by=rep,
            title=f"回访{index}",
            due_at=morning + datetime.timedelta(minutes=index),
        )
        for index in range(5)
    ]
    sign_in("rep1")

    page.goto(f"/followups/calendar/?date={day.isoformat()}")
    cell = page.locator(f'[data-drop-date="{day.isoformat()}"]')
    expect(cell.get_by_test_id("calendar-task")).to_have_count(4)
    # The fifth task (and any the demo data put on that day) waits behind "+N more".
    cell.get_by_test_id("calendar-more").click()
    expect(page.get_by_test_id("calendar-period")).to_have_text(day.isoformat())
    expect(page.get_by_test_id("calendar-task")).to_have_count(5 + busy)

    page.goto(f"/followups/calendar/?date={day.isoformat()}")
    chip = page.locator(f'[data-task="{tasks[0].pk}"]')
    drop = page.locator(f'[data-drop-date="{target.isoformat()}"]')
    with page.expect_response(lambda response: "/reschedule/" in response.url) as answer:
        chip.drag_to(drop)
    assert answer.value.status == 204
    expect(drop.locator(f'[data-task="{tasks[0].pk}"]')).to_have_count(1)
    moved = timezone.localtime(FollowUpTask.objects.get(pk=tasks[0].pk).due_at)
    assert (moved.date(), moved.time()) == (target, datetime.time(9, 30))

    page.reload()
    expect(drop.locator(f'[data-task="{tasks[0].pk}"]')).to_have_count(1)
