"""The follow-up screens: my work, team, calendar, task, plan and record forms, the customer and
home panels; scope (charlie gets 404) and pinned query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerCategory
from customers.services import customer_create
from followups.models import FollowUpMethod, FollowUpPlan, FollowUpRecord, FollowUpTask, Stage
from followups.services import plan_create, task_create


@pytest.fixture
def alices_customer(alice):
    return customer_create(
        by=alice,
        owner=alice,
        name="杭州示例科技有限公司",
        category=CustomerCategory.objects.get(name="企业客户"),
    )


@pytest.fixture
def plan(alice, alices_customer):
    return plan_create(
        customer=alices_customer,
        owner=alice,
        by=alice,
        stage=Stage.INITIAL_CONTACT,
        cadence=FollowUpPlan.Cadence.WEEKLY,
        starts_on=timezone.localdate() + datetime.timedelta(days=1),
    )


@pytest.fixture
def task(alice, alices_customer):
    return task_create(
        customer=alices_customer,
        owner=alice,
        by=alice,
        title="电话回访",
        due_at=timezone.now() + datetime.timedelta(hours=1),
    )


def add_tasks(customer, owner, count):
    now = timezone.now()
    for index in range(count):
        task_create(
            customer=customer,
            owner=owner,
            by=owner,
            title=f"任务{index}",
            due_at=now + datetime.timedelta(days=index % 9 - 1, minutes=index),
        )


def add_tasks_on(day, customer, owner, count):
    """``count`` tasks on one local day, a minute apart from 08:00, titled 任务0, 任务1 …"""
    first = FollowUpTask.objects.filter(customer=customer).count()
    morning = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, 0)))
    for index in range(first, first + count):
        task_create(
            customer=customer,
            owner=owner,
            by=owner,
            title=f"任务{index}",
            due_at=morning + datetime.timedelta(minutes=index),
        )


class TestMyWork:
    def test_it_shows_overdue_today_and_upcoming_with_counts(
        self, client_for, alice, alices_customer
    ):
        now = timezone.now()
        for title, due in [
            ("逾期任务", now - datetime.timedelta(days=2)),
            ("下周任务", now + datetime.timedelta(days=3)),
            ("一个月后", now + datetime.timedelta(days=30)),
        ]:
            task_create(customer=alices_customer, owner=alice, by=alice, title=title, due_at=due)
        response = client_for(alice).get(reverse("followups:list"))
        sections = response.context["work"]
        assert [task.title for task in sections["overdue"]["tasks"]] == ["逾期任务"]
        assert [task.title for task in sections["upcoming"]["tasks"]] == ["下周任务"]
        html = response.content.decode()
        assert "一个月后" not in html
        assert 'data-testid="record-follow-up"' in html
        assert 'id="record-modal"' in html

    def test_it_lists_only_my_tasks(self, client_for, bob, task):
        response = client_for(bob).get(reverse("followups:list"))
        assert "电话回访" not in response.content.decode()

    def test_it_costs_the_same_queries_for_2_or_20_tasks(
        self, client_for, alice, alices_customer, django_assert_num_queries
    ):
        add_tasks(alices_customer, alice, 2)
        client = client_for(alice)
        client.get(reverse("followups:list"))
        # session, user, roles, team tree (visibility: may see the team tab), the tasks with
        # their customer and method, unread notifications count: 6, whatever the row count.
        with django_assert_num_queries(6):
            client.get(reverse("followups:list"))
        add_tasks(alices_customer, alice, 18)
        with django_assert_num_queries(6):
            client.get(reverse("followups:list"))

    def test_a_long_section_shows_its_first_50_and_all_on_request(
        self, client_for, alice, alices_customer
    ):
        now = timezone.now()
        for n in range(53):
            task_create(
                customer=alices_customer,
                owner=alice,
                by=alice,
                title=f"逾期{n:02}",
                due_at=now - datetime.timedelta(days=60 - n),
            )
        client = client_for(alice)
        html = client.get(reverse("followups:list")).content.decode()
        assert html.count('data-testid="task-row"') == 50
        assert 'data-testid="count-overdue">53<' in html
        assert "逾期49" in html  # the longest overdue first
        assert "逾期50" not in html
        assert "再显示 3 项任务" in html
        html = client.get(reverse("followups:list") + "?all=overdue").content.decode()
        assert html.count('data-testid="task-row"') == 53
        assert 'data-testid="show-all-overdue"' not in html


class TestRecordModal:
    def test_htmx_gets_the_form_fragment_and_a_plain_load_the_page(self, client_for, alice, task):
        client = client_for(alice)
        url = reverse("followups:task_record", args=[task.pk])
        fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
        page = client.get(url).content.decode()
        assert 'data-testid="record-form"' in fragment
        assert "<html" not in fragment
        assert "<html" in page

    def test_a_record_through_htmx_completes_the_task_and_redirects(self, client_for, alice, task):
        phone = FollowUpMethod.objects.get(code="phone")
        now = timezone.localtime()
        response = client_for(alice).post(
            reverse("followups:task_record", args=[task.pk]),
            {
                "occurred_at": now.strftime("%Y-%m-%d %H:%M"),
                "method": phone.pk,
                "topic": "电话回访",
                "summary": "客户确认了需求",
                "feedback": "对价格满意",
                "next_step": "发送正式合同草案",
                "next_step_at": (now + datetime.timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
                "commitments-TOTAL_FORMS": "2",
                "commitments-INITIAL_FORMS": "0",
                "commitments-0-description": "寄送样品",
                "commitments-0-due_at": (now + datetime.timedelta(days=1)).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            },
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 204
        assert response["HX-Redirect"] == reverse("followups:list")
        task.refresh_from_db()
        assert task.status == FollowUpTask.Status.DONE
        assert FollowUpRecord.objects.get().commitments.get().description == "寄送样品"


class TestCalendar:
    def test_month_and_week_show_my_tasks_and_only_mine_are_draggable(
        self, client_for, alice, manager, task
    ):
        day = timezone.localtime(task.due_at).date().isoformat()
        for view in ("month", "week"):
            html = (
                client_for(alice)
                .get(reverse("followups:calendar"), {"view": view, "date": day})
                .content.decode()
            )
            assert "draggable" in html
            assert reverse("followups:reschedule", args=[task.pk]) in html
        html = (
            client_for(manager)
            .get(reverse("followups:calendar"), {"view": "week", "date": day})
            .content.decode()
        )
        assert f'data-task="{task.pk}"' in html
        assert "draggable" not in html

    @pytest.mark.parametrize("view", ["month", "week", "day"])
    def test_it_costs_the_same_queries_for_2_or_60_tasks(
        self, view, client_for, alice, alices_customer, django_assert_num_queries
    ):
        day = timezone.localdate() + datetime.timedelta(days=1)
        url = reverse("followups:calendar") + f"?view={view}&date={day.isoformat()}"
        add_tasks_on(day, alices_customer, alice, 2)
        client = client_for(alice)
        client.get(url)
        # session, user, roles, team tree (visibility), unread notifications count, and
        # month / week: the per-day counts with the first ids of each day, those tasks with
        # their customer's name (7); day: the day's count, the ids of the page, those tasks
        # with customer and owner (8). Whatever the number of tasks.
        queries = 8 if view == "day" else 7
        with django_assert_num_queries(queries):
            response = client.get(url)
        assert response.content.decode().count('data-testid="calendar-task"') == 2
        add_tasks_on(day, alices_customer, alice, 58)
        with django_assert_num_queries(queries):
            response = client.get(url)
        shown = {"month": 4, "week": 12, "day": 50}[view]
        assert response.content.decode().count('data-testid="calendar-task"') == shown

    def test_a_busy_day_shows_its_first_tasks_and_a_link_to_the_rest(
        self, client_for, alice, alices_customer
    ):
        day = timezone.localdate() + datetime.timedelta(days=2)
        add_tasks_on(day, alices_customer, alice, 7)
        client = client_for(alice)
        response = client.get(reverse("followups:calendar"), {"date": day.isoformat()})
        cell = next(c for week in response.context["weeks"] for c in week if c.date == day)
        assert [chip.title for chip in cell.chips] == ["任务0", "任务1", "任务2", "任务3"]
        assert cell.more == 3
        html = response.content.decode()
        assert f'href="?view=day&amp;date={day.isoformat()}">还有 3 项' in html
        assert all(chip.reschedule_url for chip in cell.chips)  # alice's own: draggable
        listed = client.get(reverse("followups:calendar"), {"view": "day", "date": day.isoformat()})
        assert [task.title for task in listed.context["tasks"]] == [
            f"任务{index}" for index in range(7)
        ]

    def test_the_viewers_own_tasks_come_first_on_a_busy_day(
        self, client_for, alice, manager, alices_customer
    ):
        day = timezone.localdate() + datetime.timedelta(days=2)
        add_tasks_on(day, alices_customer, alice, 6)
        late = timezone.make_aware(datetime.datetime.combine(day, datetime.time(22, 0)))
        own = task_create(
            customer=alices_customer, owner=manager, by=manager, title="经理回访", due_at=late
        )
        response = client_for(manager).get(reverse("followups:calendar"), {"date": str(day)})
        cell = next(c for week in response.context["weeks"] for c in week if c.date == day)
        # Shown by time; the manager's own task is among them, the only one they may drag.
        assert [chip.title for chip in cell.chips] == ["任务0", "任务1", "任务2", "经理回访"]
        assert [chip.pk for chip in cell.chips if chip.reschedule_url] == [own.pk]
        assert cell.more == 3

    def test_charlie_sees_none_of_alices_tasks(self, client_for, charlie, task):
        day = timezone.localtime(task.due_at).date().isoformat()
        client = client_for(charlie)
        for view in ("month", "week", "day"):
            html = client.get(
                reverse("followups:calendar"), {"view": view, "date": day}
            ).content.decode()
            assert f'data-task="{task.pk}"' not in html
            assert "calendar-more" not in html

    def test_done_tasks_show_and_cancelled_ones_do_not(self, client_for, alice, alices_customer):
        day = timezone.localdate() + datetime.timedelta(days=3)
        add_tasks_on(day, alices_customer, alice, 3)
        first, second, _third = FollowUpTask.objects.order_by("due_at")
        FollowUpTask.objects.filter(pk=first.pk).update(status=FollowUpTask.Status.DONE)
        FollowUpTask.objects.filter(pk=second.pk).update(status=FollowUpTask.Status.CANCELLED)
        response = client_for(alice).get(reverse("followups:calendar"), {"date": str(day)})
        cell = next(c for week in response.context["weeks"] for c in week if c.date == day)
        assert [(chip.title, chip.state) for chip in cell.chips] == [
            ("任务0", "done"),
            ("任务2", "pending"),
        ]
        assert not cell.chips[0].reschedule_url  # a done task stays where it is
        assert cell.more == 0

    def test_previous_and_next_step_a_whole_month_week_or_day(self, client_for, alice):
        client = client_for(alice)
        url = reverse("followups:calendar")
        month = client.get(url, {"view": "month", "date": "2027-03-01"}).context
        assert (month["previous"], month["next"]) == (
            datetime.date(2027, 2, 1),
            datetime.date(2027, 4, 1),
        )
        day = client.get(url, {"view": "day", "date": "2027-03-01"}).context
        assert (day["previous"], day["next"]) == (
            datetime.date(2027, 2, 28),
            datetime.date(2027, 3, 2),
        )

    def test_a_drop_reschedules_to_the_new_date_keeping_the_time(self, client_for, alice, task):
        before = timezone.localtime(task.due_at)
        target = before.date() + datetime.timedelta(days=3)
        response = client_for(alice).post(
            reverse("followups:reschedule", args=[task.pk]),
            {"date": target.isoformat()},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 204
        task.refresh_from_db()
        after = timezone.localtime(task.due_at)
        assert after.date() == target
        assert after.time() == before.time()

    def test_the_manager_may_not_drop_a_reps_task(self, client_for, manager, task):
        response = client_for(manager).post(
            reverse("followups:reschedule", args=[task.pk]), {"date": "2030-01-01"}
        )
        assert response.status_code == 403


class TestTeam:
    def test_the_manager_sees_overdue_counts_per_rep_and_reassigns_in_bulk(
        self, client_for, manager, alice, bob, alices_customer
    ):
        now = timezone.now()
        overdue = [
            task_create(
                customer=alices_customer,
                owner=alice,
                by=alice,
                title=f"逾期{index}",
                due_at=now - datetime.timedelta(days=1, minutes=index),
            )
            for index in range(2)
        ]
        client = client_for(manager)
        response = client.get(reverse("followups:team"))
        reps = {rep["owner"]: rep for rep in response.context["reps"]}
        assert reps[alice.pk]["overdue"] == 2
        response = client.post(
            reverse("followups:team"),
            {"tasks": [t.pk for t in overdue], "to_user": bob.pk, "reason": "alice 休假"},
        )
        assert response.status_code == 302
        assert set(FollowUpTask.objects.values_list("owner", flat=True)) == {bob.pk}

    def test_the_team_view_costs_the_same_queries_for_2_or_20_tasks(
        self, client_for, manager, alice, alices_customer
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = client_for(manager)
        url = reverse("followups:team")
        add_tasks(alices_customer, alice, 2)
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        add_tasks(alices_customer, alice, 18)
        with CaptureQueriesContext(connection) as many:
            client.get(url)
        assert len(many.captured_queries) == len(few.captured_queries) <= 15

    def test_a_rep_has_no_team_view(self, client_for, alice):
        assert client_for(alice).get(reverse("followups:team")).status_code == 403


class TestPlanForms:
    def test_a_rep_creates_a_weekly_plan_from_the_customer_page(
        self, client_for, alice, alices_customer
    ):
        client = client_for(alice)
        panel_url = reverse("customers:panel", args=[alices_customer.pk, "followups"])
        html = client.get(alices_customer.get_absolute_url()).content.decode()
        assert f'hx-get="{panel_url}"' in html  # the slot; the panel follows the page
        assert 'data-testid="followups-panel"' in client.get(panel_url).content.decode()
        start = timezone.localdate() + datetime.timedelta(days=1)
        response = client.post(
            f"{reverse('followups:plan_create')}?customer={alices_customer.pk}",
            {
                "stage": Stage.INITIAL_CONTACT,
                "cadence": FollowUpPlan.Cadence.WEEKLY,
                "owner": alice.pk,
                "reminder_minutes": 60,
                "starts_on": start.isoformat(),
                "time_of_day": "10:00",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        plan = FollowUpPlan.objects.get()
        assert plan.tasks.count() >= 4
        html = client.get(panel_url).content.decode()
        assert 'data-testid="plan-row"' in html
        assert 'data-testid="customer-task"' in html

    def test_editing_a_plan_regenerates_its_tasks(self, client_for, alice, plan):
        response = client_for(alice).post(
            reverse("followups:plan_edit", args=[plan.pk]),
            {
                "stage": plan.stage,
                "cadence": FollowUpPlan.Cadence.BIWEEKLY,
                "owner": alice.pk,
                "reminder_minutes": 60,
                "starts_on": plan.starts_on.isoformat(),
                "time_of_day": "10:00",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        assert plan.tasks.pending().count() == 3


class TestHomePanel:
    def test_the_home_page_lists_my_follow_ups_due_today(self, client_for, alice, task):
        html = client_for(alice).get(reverse("home")).content.decode()
        assert 'data-testid="home-tasks"' in html
        assert "电话回访" in html


class TestSidebarCount:
    def test_the_sidebar_counts_tasks_due_today_and_overdue(
        self, client_for, alice, bob, alices_customer, time_machine, django_assert_num_queries
    ):
        time_machine.move_to(datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC), tick=False)
        now = timezone.now()
        for owner, hours in [(alice, -30), (alice, 5), (alice, 24), (bob, 1)]:
            task_create(
                customer=alices_customer,
                owner=owner,
                by=owner,
                title="回访",
                due_at=now + datetime.timedelta(hours=hours),
            )
        client = client_for(alice)
        page = client.get(reverse("home")).content.decode()
        assert 'id="nav-count-followups"' in page  # the slot, filled after load

        # session, user, roles, then one count per entry: tasks due, approvals to decide
        with django_assert_num_queries(5):
            html = client.get(reverse("nav_counts")).content.decode()
        assert 'data-testid="nav-count-followups">2<' in html  # yesterday's and today's
        assert 'data-testid="nav-count-approvals"' not in html  # nothing to decide: no badge
        assert 'hx-swap-oob="true"' in html

    def test_anonymous_visitors_get_no_counts(self, client, db):
        assert client.get(reverse("nav_counts")).status_code == 302


class TestScope:
    @pytest.fixture
    def urls(self, task, plan, alices_customer):
        customer = f"?customer={alices_customer.pk}"
        return [
            ("get", reverse("followups:task", args=[task.pk])),
            ("post", reverse("followups:reschedule", args=[task.pk])),
            ("post", reverse("followups:task_cancel", args=[task.pk])),
            ("post", reverse("followups:task_transfer", args=[task.pk])),
            ("get", reverse("followups:task_record", args=[task.pk])),
            ("get", reverse("followups:record_create") + customer),
            ("get", reverse("followups:plan_create") + customer),
            ("get", reverse("followups:plan_edit", args=[plan.pk])),
            ("post", reverse("followups:plan_pause", args=[plan.pk])),
        ]

    def test_charlie_gets_404_on_every_url_with_an_object(self, client_for, charlie, urls):
        client = client_for(charlie)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, url

    def test_bob_gets_404_for_alices_task_and_cannot_transfer_it(self, client_for, bob, task):
        client = client_for(bob)
        response = client.post(
            reverse("followups:task_transfer", args=[task.pk]),
            {"to_user": bob.pk, "reason": "我来"},
        )
        assert response.status_code == 404
        task.refresh_from_db()
        assert task.owner_id != bob.pk

    def test_the_owner_and_the_manager_open_the_task(self, client_for, alice, manager, task):
        for user in (alice, manager):
            response = client_for(user).get(reverse("followups:task", args=[task.pk]))
            assert response.status_code == 200
            assert 'data-testid="transfer-form"' in response.content.decode()
