"""Action plans (行动计划): created from a chart, listed per team, followed to done, reminded
once before the due date and once when overdue, whatever the number of sweeps."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from analytics import services
from analytics.models import ActionPlan
from crm.notifications.models import Notification
from tests.analytics.conftest import SHANGHAI

MONDAY = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def plan(manager, alice):
    with time_machine.travel(MONDAY, tick=False):
        return services.action_plan_create(
            by=manager,
            owner=alice,
            title="线上广告线索 48 小时内首次跟进",
            meeting="5 月销售复盘会",
            due_on=datetime.date(2026, 6, 10),
            metric="sales.sources",
            metric_url="/analytics/sales/?period=30d",
        )


def test_a_manager_adds_an_item_from_a_chart(client_for, manager, alice):
    client = client_for(manager)
    page = client.get(
        reverse("analytics:action_plan_create"),
        {"metric": "sales.funnel", "from": "/analytics/sales/"},
    )
    assert page.status_code == 200
    assert page.context["form"].initial["metric"] == "sales.funnel"
    response = client.post(
        reverse("analytics:action_plan_create"),
        {
            "title": "方案提交阶段提速",
            "owner": alice.pk,
            "due_on": "2099-01-31",
            "metric": "sales.funnel",
            "metric_url": "/analytics/sales/?period=30d",
            "meeting": "月度复盘",
        },
    )
    plan = ActionPlan.objects.get()
    assert response["Location"] == plan.get_absolute_url()
    assert (plan.owner, plan.team, plan.created_by) == (alice, alice.team, manager)
    assert Notification.objects.filter(recipient=alice).exists()
    assert plan.metric_label.endswith("转化漏斗")


def test_bad_input_is_explained_and_nothing_is_saved(client_for, manager, charlie):
    response = client_for(manager).post(
        reverse("analytics:action_plan_create"),
        {
            "title": "",
            "owner": charlie.pk,
            "due_on": "2000-01-01",
            "metric": "nope",
            "metric_url": "https://evil.example/",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"title", "owner", "due_on", "metric"} <= set(errors)  # charlie is not in the team
    assert not ActionPlan.objects.exists()


def test_the_list_is_per_team_and_outsiders_get_404(
    plan, client_for, manager, alice, charlie, analyst
):
    listed = client_for(manager).get(reverse("analytics:action_plans"))
    assert plan in listed.context["page_obj"].object_list
    assert plan.title in listed.content.decode()
    assert client_for(alice).get(plan.get_absolute_url()).status_code == 200
    assert client_for(analyst).get(plan.get_absolute_url()).status_code == 200
    assert client_for(charlie).get(plan.get_absolute_url()).status_code == 404
    assert (
        client_for(charlie).get(reverse("analytics:action_plan_edit", args=[plan.pk])).status_code
        == 404
    )
    assert (
        plan
        not in client_for(charlie)
        .get(reverse("analytics:action_plans"))
        .context["page_obj"]
        .object_list
    )


def test_the_analyst_reads_but_does_not_change(plan, client_for, analyst):
    client = client_for(analyst)
    assert client.get(reverse("analytics:action_plan_create")).status_code == 403
    assert client.get(reverse("analytics:action_plan_edit", args=[plan.pk])).status_code == 403
    client.post(
        reverse("analytics:action_plan_move", args=[plan.pk]), {"status": "done", "outcome": "x"}
    )
    plan.refresh_from_db()
    assert plan.status == ActionPlan.Status.OPEN


def test_closing_an_item_needs_its_outcome(plan, client_for, alice):
    client = client_for(alice)
    url = reverse("analytics:action_plan_move", args=[plan.pk])
    client.post(url, {"status": "done", "outcome": ""})
    plan.refresh_from_db()
    assert plan.status == ActionPlan.Status.OPEN
    client.post(url, {"status": "done", "outcome": "已建立 48 小时跟进看板"})
    plan.refresh_from_db()
    assert plan.status == ActionPlan.Status.DONE
    assert plan.completed_at is not None
    assert plan.history.count() == 2


def test_owners_are_reminded_once_before_and_once_after_the_due_date(plan, alice, manager):
    with time_machine.travel(
        datetime.datetime(2026, 6, 7, 8, 30, tzinfo=SHANGHAI), tick=False
    ) as clock:
        assert services.remind_action_plans(now=datetime.datetime.now(tz=SHANGHAI)) == 0
        clock.move_to(datetime.datetime(2026, 6, 8, 8, 30, tzinfo=SHANGHAI))  # two days before
        now = datetime.datetime.now(tz=SHANGHAI)
        assert services.remind_action_plans(now=now) == 1
        assert services.remind_action_plans(now=now) == 0
        clock.move_to(datetime.datetime(2026, 6, 11, 8, 30, tzinfo=SHANGHAI))
        now = datetime.datetime.now(tz=SHANGHAI)
        assert services.remind_action_plans(now=now) == 1  # overdue: owner and author
        assert services.remind_action_plans(now=now) == 0
    verbs = list(
        Notification.objects.filter(target_id=plan.pk).values_list("recipient__username", "verb")
    )
    assert ("alice", "action_plan_due") in verbs
    assert {("alice", "action_plan_overdue"), ("manager", "action_plan_overdue")} <= set(verbs)
    due = Notification.objects.get(verb="action_plan_due")
    assert due.title == "行动计划 2026-06-10 到期：线上广告线索 48 小时内首次跟进"


def test_a_new_due_date_earns_a_new_reminder(plan, manager):
    with time_machine.travel(datetime.datetime(2026, 6, 9, 8, 30, tzinfo=SHANGHAI), tick=False):
        now = datetime.datetime.now(tz=SHANGHAI)
        assert services.remind_action_plans(now=now) == 1
        services.action_plan_update(
            plan=plan, by=manager, changes={"due_on": datetime.date(2026, 6, 11)}
        )
        assert services.remind_action_plans(now=now) == 1


def test_a_done_item_is_not_reminded(plan, alice):
    services.action_plan_move(plan=plan, status=ActionPlan.Status.DONE, by=alice, outcome="完成")
    with time_machine.travel(datetime.datetime(2026, 6, 20, 8, 30, tzinfo=SHANGHAI), tick=False):
        assert services.remind_action_plans(now=datetime.datetime.now(tz=SHANGHAI)) == 0


def test_the_list_query_count_is_pinned(
    plan, client_for, manager, alice, django_assert_num_queries
):
    for number in range(5):
        services.action_plan_create(
            by=manager,
            owner=alice,
            title=f"事项{number}",
            due_on=datetime.date(2099, 1, number + 1),
        )
    client = client_for(manager)
    client.get(reverse("analytics:action_plans"))
    # session, user, roles, team tree, teams of the filter, summary, count, page, unread badge
    with django_assert_num_queries(9):
        client.get(reverse("analytics:action_plans"))


def test_handing_an_item_to_a_colleague_moves_it_to_their_team_and_tells_them(
    plan, manager, bob, alice
):
    bob.team = None
    bob.save(update_fields=["team"])
    services.action_plan_update(plan=plan, by=manager, changes={"title": plan.title})
    assert not Notification.objects.filter(recipient=bob).exists()
    plan = services.action_plan_update(plan=plan, by=manager, changes={"owner": bob})
    assert plan.team is None
    assert Notification.objects.filter(recipient=bob, verb="action_plan_assigned").exists()


def test_the_dashboard_link_is_only_ever_one_of_this_site(client_for, manager):
    page = client_for(manager).get(
        reverse("analytics:action_plan_create"), {"from": "javascript:alert(1)"}
    )
    assert "javascript:" not in page.content.decode()


def test_the_list_filters_by_team_and_ignores_a_team_no_key_can_be(plan, client_for, manager):
    client = client_for(manager)
    url = reverse("analytics:action_plans")
    html = client.get(url, {"team": plan.team_id}).content.decode()
    assert f'<option value="{plan.team_id}" selected>' in html
    assert plan.title in html
    assert plan.title not in client.get(url, {"team": plan.team_id + 1000}).content.decode()
    for bad in ("0" * 4301, "²", "abc"):  # the whole list, never a 500
        response = client.get(url, {"team": bad})
        assert response.status_code == 200
        assert plan.title in response.content.decode()
