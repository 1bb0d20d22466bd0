"""The customer archive's automation actions run by the real engine: a lead is captured, its
event delivered (eagerly, after commit) and the rules assign, tag, schedule and set fields.

Assignment modes: fixed, territory (region × industry, falling back to the section and to the
whole region), round-robin and least-loaded within a team — with leave and backup, inactive and
expired users, failures that leave the lead to be assigned, idempotency, "try it" and the admin
form's checks.
"""

import datetime
import itertools
import zoneinfo

import pytest
import time_machine
from django.utils import timezone, translation

from crm.accounts.models import Leave, Region, Team, User
from crm.accounts.roles import Role
from crm.approvals.models import ApprovalRequest
from crm.automation import engine, services
from crm.automation.models import Action, Condition, RoundRobinPointer, Rule, RuleRun
from crm.core import events
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from customers.events import CUSTOMER_CREATED, LEAD_CAPTURED
from customers.leads import lead_capture
from customers.models import (
    Customer,
    CustomerLevel,
    Industry,
    SourceChannel,
    Territory,
)
from customers.services import customer_assign, customer_create, customer_update
from tests.factories import TeamFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
Mode = Action.AssignMode
Op = Condition.Operator
ASSIGN = "customers.assign_owner"

pytestmark = pytest.mark.django_db

_phones = itertools.count(1000)


@pytest.fixture(autouse=True)
def _english():
    # Run-log lines are compared word for word; they are written in the active language.
    with translation.override("en"):
        yield


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def online_ads(db) -> SourceChannel:
    return SourceChannel.objects.get(code="online_ads")


@pytest.fixture
def east(db) -> Region:
    return Region.objects.get(code="EAST")


@pytest.fixture
def reps(sales_department) -> Team:
    """A sales group of three reps, r1 < r2 < r3 by id."""
    team = TeamFactory(name="销售三组", parent=sales_department)
    for name in ("r1", "r2", "r3"):
        UserFactory(username=name, team=team, role=Role.SALES_REP)
    return team


def rep(name: str) -> User:
    return User.objects.get(username=name)


def make_rule(*actions: dict, trigger: str = LEAD_CAPTURED, conditions=(), **fields) -> Rule:
    rule = Rule.objects.create(name=fields.pop("name", "线索分配"), trigger=trigger, **fields)
    for group, field, operator, value in conditions:
        Condition.objects.create(
            rule=rule, group=group, field=field, operator=operator, value=value
        )
    for order, action in enumerate(actions, start=1):
        Action.objects.create(rule=rule, order=order, **action)
    return rule


def assign(mode: str, **fields) -> dict:
    return {"type": ASSIGN, "mode": mode, **fields}


def capture(django_capture_on_commit_callbacks, source, **fields) -> Customer:
    """A web lead, its lead.captured event delivered after commit (eager Celery) as in prod."""
    with django_capture_on_commit_callbacks(execute=True):
        result = lead_capture(
            source=source,
            name=fields.pop("name", f"线索客户{next(_phones)}"),
            phone=f"1391234{next(_phones):04d}",
            **fields,
        )
    result.customer.refresh_from_db()
    return result.customer


def lead_with_industry(django_capture_on_commit_callbacks, enterprise, **fields) -> Customer:
    """A to-be-assigned lead with an industry (the capture form has none; imports do)."""
    with django_capture_on_commit_callbacks(execute=True):
        customer = customer_create(
            by=None,
            owner=None,
            status=Customer.Status.TO_BE_ASSIGNED,
            event=LEAD_CAPTURED,
            name=f"行业客户{next(_phones)}",
            category=enterprise,
            **fields,
        )
    customer.refresh_from_db()
    return customer


def run_of(rule: Rule) -> RuleRun:
    return RuleRun.objects.get(rule=rule)


def event_of(customer: Customer, name: str = LEAD_CAPTURED) -> DomainEvent:
    return DomainEvent.objects.get(name=name, object_id=customer.pk)


def rep_for_override() -> User:
    return UserFactory(username="override", role=Role.SALES_REP)


# --- fixed user ----------------------------------------------------------------------------------


class TestFixedUser:
    def test_it_assigns_the_lead_and_tells_the_owner(
        self, django_capture_on_commit_callbacks, online_ads, alice
    ):
        rule = make_rule(assign(Mode.FIXED, user=alice))

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        assert customer.owner == alice
        assert customer.status == Customer.Status.FOLLOWING
        assert customer.assigned_at is not None
        assert customer.assignment_error == ""
        assert Notification.objects.filter(recipient=alice, verb="customer_assigned").count() == 1
        run = run_of(rule)
        assert run.status == RuleRun.Status.SUCCESS
        assert run.matched
        assert run.actions_taken == [f"Assigned to {alice}: fixed user"]
        # The assignment is itself a change other rules can react to.
        changed = DomainEvent.objects.get(name="customer.changed", object_id=customer.pk)
        assert set(changed.payload["changed"]) == {"owner", "status"}

    def test_a_redelivered_event_or_retried_task_does_not_run_the_rule_again(
        self, django_capture_on_commit_callbacks, online_ads, alice
    ):
        rule = make_rule(assign(Mode.FIXED, user=alice))
        customer = capture(django_capture_on_commit_callbacks, online_ads)
        event = event_of(customer)
        customer_assign(customer=customer, owner=rep_for_override(), by=None, reason="手动")

        assert events.deliver(event.pk) is False  # already delivered
        assert engine.run_rule(rule, event, customer) is None  # the run row is the key
        customer.refresh_from_db()
        assert customer.owner.username == "override"  # the manual choice stands
        assert RuleRun.objects.filter(rule=rule).count() == 1
        assert Notification.objects.filter(recipient=alice).count() == 1

    def test_a_user_on_leave_hands_over_to_the_backup(
        self, django_capture_on_commit_callbacks, online_ads, alice, bob
    ):
        today = timezone.localdate()
        Leave.objects.create(user=alice, starts_on=today, ends_on=today, backup=bob)
        rule = make_rule(assign(Mode.FIXED, user=alice))

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        assert customer.owner == bob
        assert run_of(rule).actions_taken == [
            f"Assigned to {bob}: fixed user; backup of {alice}, who is on leave"
        ]
        assert Notification.objects.filter(recipient=bob, verb="customer_assigned").exists()
        assert not Notification.objects.filter(recipient=alice).exists()

    def test_an_inactive_user_fails_and_the_lead_waits_to_be_assigned(
        self, django_capture_on_commit_callbacks, online_ads, alice
    ):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        rule = make_rule(assign(Mode.FIXED, user=alice))

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        message = (
            f"{alice} cannot take the customer: inactive, expired, or on leave with no "
            "available backup."
        )
        run = run_of(rule)
        assert run.status == RuleRun.Status.FAILED
        assert run.error == message
        assert run.assignment_failed
        assert customer.owner is None
        assert customer.status == Customer.Status.TO_BE_ASSIGNED
        assert customer.assignment_error == message
        assert Customer.objects.to_be_assigned().filter(pk=customer.pk).exists()

    def test_a_fixed_user_also_reassigns_an_owned_customer(
        self, django_capture_on_commit_callbacks, make_customer, alice, bob
    ):
        rule = make_rule(assign(Mode.FIXED, user=bob), trigger=CUSTOMER_CREATED)

        with django_capture_on_commit_callbacks(execute=True):
            customer = make_customer(alice)

        customer.refresh_from_db()
        assert customer.owner == bob
        assert run_of(rule).status == RuleRun.Status.SUCCESS


# --- territory -----------------------------------------------------------------------------------


@pytest.fixture
def territories(east, alice, bob, charlie) -> None:
    """East China: general-purpose equipment (C34) → alice, manufacturing (C) → bob, any other
    industry → charlie."""
    Territory.objects.create(region=east, industry=Industry.objects.get(code="C34"), user=alice)
    Territory.objects.create(region=east, industry=Industry.objects.get(code="C"), user=bob)
    Territory.objects.create(region=east, industry=None, user=charlie)


class TestTerritory:
    @pytest.mark.parametrize(
        ("industry", "owner", "why"),
        [
            ("C34", "alice", "the division's own line"),
            ("C35", "bob", "a division falls back to its section"),
            ("C", "bob", "the section's own line"),
            ("I", "charlie", "an industry without a line falls back to the region"),
            (None, "charlie", "no industry: the region's line"),
        ],
    )
    def test_the_most_specific_line_wins(
        self,
        django_capture_on_commit_callbacks,
        enterprise,
        east,
        territories,
        industry,
        owner,
        why,
    ):
        rule = make_rule(assign(Mode.TERRITORY))

        customer = lead_with_industry(
            django_capture_on_commit_callbacks,
            enterprise,
            region=east,
            industry=Industry.objects.get(code=industry) if industry else None,
        )

        assert customer.owner.username == owner, why
        assert run_of(rule).status == RuleRun.Status.SUCCESS
        assert Notification.objects.filter(recipient=customer.owner).count() == 1

    def test_the_lookup_is_one_query(self, east, territories, django_assert_num_queries):
        division = Industry.objects.get(code="C35")
        with django_assert_num_queries(1):  # the region's lines for the industry and section
            territory = Territory.objects.for_customer(region_id=east.pk, industry=division)
        assert territory.user.username == "bob"

    def test_a_territory_team_takes_turns(
        self, django_capture_on_commit_callbacks, enterprise, east, reps
    ):
        Territory.objects.create(region=east, team=reps)
        make_rule(assign(Mode.TERRITORY))

        owners = [
            lead_with_industry(django_capture_on_commit_callbacks, enterprise, region=east).owner
            for _round in range(4)
        ]

        assert [owner.username for owner in owners] == ["r1", "r2", "r3", "r1"]

    def test_a_territory_user_on_leave_hands_over_to_the_backup(
        self, django_capture_on_commit_callbacks, enterprise, east, territories, charlie, bob
    ):
        today = timezone.localdate()
        Leave.objects.create(user=charlie, starts_on=today, ends_on=today, backup=bob)
        make_rule(assign(Mode.TERRITORY))

        customer = lead_with_industry(django_capture_on_commit_callbacks, enterprise, region=east)

        assert customer.owner == bob

    def test_a_region_without_a_line_fails_and_says_so(
        self, django_capture_on_commit_callbacks, enterprise, territories
    ):
        south = Region.objects.get(code="SOUTH")
        rule = make_rule(assign(Mode.TERRITORY))

        customer = lead_with_industry(django_capture_on_commit_callbacks, enterprise, region=south)

        run = run_of(rule)
        assert run.status == RuleRun.Status.FAILED
        assert run.error == f"No territory covers region {south} and industry —."
        assert customer.owner is None
        assert customer.assignment_error == run.error

    def test_a_lead_without_region_fails(
        self, django_capture_on_commit_callbacks, online_ads, territories
    ):
        rule = make_rule(assign(Mode.TERRITORY))

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        assert run_of(rule).error == "The customer has no region, so no territory applies."
        assert customer.status == Customer.Status.TO_BE_ASSIGNED


# --- round-robin and least loaded ----------------------------------------------------------------


class TestRoundRobin:
    def test_leads_go_round_the_team_evenly(
        self, django_capture_on_commit_callbacks, online_ads, reps
    ):
        rule = make_rule(assign(Mode.ROUND_ROBIN, team=reps))

        owners = [capture(django_capture_on_commit_callbacks, online_ads).owner for _i in range(6)]

        assert [owner.username for owner in owners] == ["r1", "r2", "r3", "r1", "r2", "r3"]
        assert RoundRobinPointer.objects.get(team=reps).last_user == rep("r3")
        assert RuleRun.objects.filter(rule=rule, status=RuleRun.Status.SUCCESS).count() == 6
        assert RuleRun.objects.filter(rule=rule).first().actions_taken == [
            f"Assigned to {rep('r3')}: round-robin in 销售三组"
        ]

    def test_a_member_on_leave_is_covered_by_the_backup_and_keeps_the_turn(
        self, django_capture_on_commit_callbacks, online_ads, reps, charlie
    ):
        today = timezone.localdate()
        Leave.objects.create(user=rep("r2"), starts_on=today, ends_on=today, backup=charlie)
        make_rule(assign(Mode.ROUND_ROBIN, team=reps))

        owners = [capture(django_capture_on_commit_callbacks, online_ads).owner for _i in range(4)]

        assert [owner.username for owner in owners] == ["r1", "charlie", "r3", "r1"]
        assert Notification.objects.filter(recipient=charlie, verb="customer_assigned").exists()

    def test_inactive_and_expired_members_are_skipped(
        self, django_capture_on_commit_callbacks, online_ads, reps
    ):
        User.objects.filter(username="r1").update(is_active=False)
        User.objects.filter(username="r2").update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        UserFactory(username="r4", team=reps, role=Role.SALES_REP)
        make_rule(assign(Mode.ROUND_ROBIN, team=reps))

        owners = [capture(django_capture_on_commit_callbacks, online_ads).owner for _i in range(4)]

        assert [owner.username for owner in owners] == ["r3", "r4", "r3", "r4"]

    def test_when_everyone_is_away_the_lead_waits_with_the_reason(
        self, django_capture_on_commit_callbacks, online_ads, reps
    ):
        today = timezone.localdate()
        r1, r2, r3 = rep("r1"), rep("r2"), rep("r3")
        # Backups that are away too: each covers the next, round to the first (a loop).
        Leave.objects.create(user=r1, starts_on=today, ends_on=today, backup=r2)
        Leave.objects.create(user=r2, starts_on=today, ends_on=today, backup=r3)
        Leave.objects.create(user=r3, starts_on=today, ends_on=today, backup=r1)
        rule = make_rule(assign(Mode.ROUND_ROBIN, team=reps))

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        message = (
            "Nobody in team 销售三组 can take the customer: all are on leave, inactive or expired."
        )
        run = run_of(rule)
        assert (run.status, run.error, run.assignment_failed) == (
            RuleRun.Status.FAILED,
            message,
            True,
        )
        assert customer.owner is None
        assert customer.status == Customer.Status.TO_BE_ASSIGNED
        assert customer.assignment_error == message
        assert not Notification.objects.filter(verb="customer_assigned").exists()
        # The pointer did not move: the failed action's savepoint was rolled back.
        assert not RoundRobinPointer.objects.filter(team=reps, last_user__isnull=False).exists()

        # A manager assigns it by hand: the problem is cleared.
        customer_assign(customer=customer, owner=r1, by=None, reason="手动分配")
        customer.refresh_from_db()
        assert customer.assignment_error == ""
        assert customer.status == Customer.Status.FOLLOWING

    def test_an_owned_customer_keeps_its_owner(
        self, django_capture_on_commit_callbacks, make_customer, alice, reps
    ):
        rule = make_rule(assign(Mode.ROUND_ROBIN, team=reps), trigger=CUSTOMER_CREATED)

        with django_capture_on_commit_callbacks(execute=True):
            customer = make_customer(alice)

        customer.refresh_from_db()
        assert customer.owner == alice
        assert run_of(rule).actions_taken == [
            f"Kept the owner {alice}: this mode assigns only customers without one."
        ]
        assert not RoundRobinPointer.objects.filter(team=reps).exists()


class TestLeastLoaded:
    def test_the_member_with_the_fewest_customers_in_follow_up_gets_the_lead(
        self, django_capture_on_commit_callbacks, online_ads, make_customer, reps
    ):
        r1, r2, r3 = rep("r1"), rep("r2"), rep("r3")
        for owner in (r1, r1, r3):
            make_customer(owner, name=f"老客户{next(_phones)}", phone="")
        dormant = make_customer(r2, name="休眠客户", phone="")
        Customer.objects.filter(pk=dormant.pk).update(status=Customer.Status.DORMANT)
        rule = make_rule(assign(Mode.LEAST_LOADED, team=reps))

        owners = [capture(django_capture_on_commit_callbacks, online_ads).owner for _i in range(3)]

        # Loads (following up only) 2/0/1 → r2; 2/1/1 → r2 (tie, lower id); 2/2/1 → r3.
        assert [owner.username for owner in owners] == ["r2", "r2", "r3"]
        assert RuleRun.objects.filter(rule=rule).first().actions_taken == [
            f"Assigned to {r3}: least loaded in 销售三组 (1 customers in follow-up)"
        ]

    def test_the_load_is_counted_in_one_grouped_query(self, reps, django_assert_num_queries):
        from customers.automation import _least_loaded

        RoundRobinPointer.objects.create(team=reps)
        # The team's pointer row locked, the grouped count, and the chosen member's leave.
        with django_assert_num_queries(3):
            pick = _least_loaded(reps, commit=True)
        assert pick.owner == rep("r1")

    def test_a_least_loaded_member_on_leave_passes_it_to_the_backup(
        self, django_capture_on_commit_callbacks, online_ads, reps, charlie
    ):
        today = timezone.localdate()
        Leave.objects.create(user=rep("r1"), starts_on=today, ends_on=today, backup=charlie)
        make_rule(assign(Mode.LEAST_LOADED, team=reps))

        assert capture(django_capture_on_commit_callbacks, online_ads).owner == charlie


# --- follow-up due, tags, fields -----------------------------------------------------------------


class TestFollowUpDue:
    def test_online_ads_within_48_hours_exhibitions_within_24(
        self, django_capture_on_commit_callbacks, online_ads, exhibition
    ):
        make_rule(
            {"type": "customers.set_follow_up_due", "hours": 48},
            conditions=[(1, "source", Op.EQUALS, "online_ads")],
            name="线上广告 48 小时",
        )
        exhibition_rule = make_rule(
            {"type": "customers.set_follow_up_due", "hours": 24},
            conditions=[(1, "source", Op.EQUALS, "展会推广")],
            name="展会 24 小时",
        )
        moment = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)

        with time_machine.travel(moment, tick=False):
            from_ads = capture(django_capture_on_commit_callbacks, online_ads)
            from_show = capture(django_capture_on_commit_callbacks, exhibition)

        assert from_ads.next_follow_up_due == moment + datetime.timedelta(hours=48)
        assert from_show.next_follow_up_due == moment + datetime.timedelta(hours=24)
        assert RuleRun.objects.get(rule=exhibition_rule, object_id=from_show.pk).actions_taken == [
            "Next follow-up due 2026-03-03 09:30"
        ]

    def test_the_delay_counts_from_the_event_not_from_a_late_run(self, online_ads):
        make_rule({"type": "customers.set_follow_up_due", "hours": 48})
        moment = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
        with time_machine.travel(moment, tick=False):
            customer = lead_capture(
                source=online_ads, name="晚到客户", phone="13912340001"
            ).customer

        with time_machine.travel(moment + datetime.timedelta(hours=5), tick=False):
            events.deliver(event_of(customer).pk)  # the sweep, after a broker outage

        customer.refresh_from_db()
        assert customer.next_follow_up_due == moment + datetime.timedelta(hours=48)

    def test_a_rule_on_customer_changed_does_not_retrigger_itself(
        self, django_capture_on_commit_callbacks, online_ads
    ):
        rule = make_rule(
            {"type": "customers.set_follow_up_due", "hours": 24}, trigger="customer.changed"
        )
        customer = capture(django_capture_on_commit_callbacks, online_ads)

        with django_capture_on_commit_callbacks(execute=True):
            customer_update(customer=customer, by=None, changes={"notes": "客户要求周三回电"})

        customer.refresh_from_db()
        assert customer.next_follow_up_due is not None
        runs = RuleRun.objects.filter(rule=rule).order_by("id")
        assert [run.actions_taken[0].split(" ")[0] for run in runs] == ["Next", "Left"]
        assert DomainEvent.objects.filter(name="customer.changed").count() == 2


class TestTags:
    def test_it_adds_and_removes_tags_by_name(self, django_capture_on_commit_callbacks, exhibition):
        rule = make_rule(
            {"type": "customers.add_tags", "value": "企业采购，Technical consulting、企业采购"},
            {"type": "customers.remove_tags", "value": "合作洽谈"},  # the exhibition's default
        )

        customer = capture(django_capture_on_commit_callbacks, exhibition)

        assert set(customer.tags.values_list("name", flat=True)) == {"企业采购", "技术咨询"}
        assert run_of(rule).actions_taken == [
            "Added tags Enterprise purchase、Technical consulting",
            "Removed tags Cooperation negotiation",
        ]
        tag_events = DomainEvent.objects.filter(name="customer.changed", object_id=customer.pk)
        assert [event.payload for event in tag_events] == [{"changed": ["tags"]}] * 2

    def test_tags_already_there_change_nothing(
        self, django_capture_on_commit_callbacks, exhibition
    ):
        rule = make_rule({"type": "customers.add_tags", "value": "合作洽谈"})

        customer = capture(django_capture_on_commit_callbacks, exhibition)

        assert run_of(rule).actions_taken == ["Already tagged Cooperation negotiation"]
        assert not DomainEvent.objects.filter(name="customer.changed", object_id=customer.pk)

    def test_unknown_tags_fail_the_rule_and_name_them(
        self, django_capture_on_commit_callbacks, online_ads
    ):
        rule = make_rule({"type": "customers.add_tags", "value": "企业采购, 不存在的标签, 也没有"})

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        run = run_of(rule)
        assert run.status == RuleRun.Status.FAILED
        assert run.error == "Unknown tags: 不存在的标签、也没有."
        assert not run.assignment_failed
        assert not customer.tags.filter(name="企业采购").exists()
        assert customer.assignment_error == ""  # not an assignment: nothing left on the lead


class TestSetField:
    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("type", "intention", Customer.Type.INTENTION),
            ("type", "Intention customer", Customer.Type.INTENTION),
            ("lifecycle", "intention", Customer.Lifecycle.INTENTION),
            ("scale", "中小企业", "中小企业"),
            ("source", "referral", "客户转介绍"),
            ("region", "华南", "华南"),
            ("region", "East China", "华东"),
            ("category", "Individual", "个人客户"),
            ("notes", "展会现场留资，需回电", "展会现场留资，需回电"),
        ],
    )
    def test_it_sets_the_field_from_a_value_name_or_code(
        self, django_capture_on_commit_callbacks, online_ads, field, value, expected
    ):
        rule = make_rule({"type": "customers.set_field", "field": field, "value": value})

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        current = getattr(customer, field)
        assert (current.name if hasattr(current, "name") else current) == expected
        assert run_of(rule).status == RuleRun.Status.SUCCESS
        changed = DomainEvent.objects.get(name="customer.changed", object_id=customer.pk)
        assert changed.payload == {"changed": [field]}

    def test_a_key_field_set_by_a_rule_needs_no_approval(
        self, django_capture_on_commit_callbacks, online_ads
    ):
        rule = make_rule({"type": "customers.set_field", "field": "level", "value": "Level A"})

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        assert customer.level == CustomerLevel.objects.get(name="A 级")
        assert not ApprovalRequest.objects.exists()
        assert run_of(rule).actions_taken == ["Set level to Level A"]

    def test_a_value_that_is_not_a_choice_fails_the_rule(
        self, django_capture_on_commit_callbacks, online_ads
    ):
        rule = make_rule({"type": "customers.set_field", "field": "status", "value": "archived"})

        customer = capture(django_capture_on_commit_callbacks, online_ads)

        run = run_of(rule)
        assert run.status == RuleRun.Status.FAILED
        assert run.error.startswith("“archived” is not a choice of status.")
        assert customer.status == Customer.Status.TO_BE_ASSIGNED


# --- try it --------------------------------------------------------------------------------------


class TestTryIt:
    def test_describe_changes_nothing_and_says_what_would_happen(
        self, django_capture_on_commit_callbacks, online_ads, reps
    ):
        customer = capture(django_capture_on_commit_callbacks, online_ads)  # no rules yet
        RoundRobinPointer.objects.create(team=reps, last_user=rep("r1"))
        rule = make_rule(
            assign(Mode.ROUND_ROBIN, team=reps),
            {"type": "customers.set_follow_up_due", "hours": 48},
            {"type": "customers.add_tags", "value": "企业采购"},
            {"type": "customers.set_field", "field": "level", "value": "A 级"},
        )

        with time_machine.travel(timezone.now(), tick=False):
            outcomes = [services.rule_try(rule=rule, record=customer) for _twice in range(2)]

        assert outcomes[0] == outcomes[1]  # the pointer did not move in between
        outcome = outcomes[0]
        assert outcome.matched
        assert outcome.error == ""
        assert outcome.actions[0] == f"Would assign to {rep('r2')}: round-robin in 销售三组"
        assert outcome.actions[1].startswith("Would set the next follow-up due to ")
        assert outcome.actions[2:] == [
            "Would add tags Enterprise purchase",
            "Would set level to Level A",
        ]
        customer.refresh_from_db()
        assert customer.owner is None
        assert customer.status == Customer.Status.TO_BE_ASSIGNED
        assert customer.next_follow_up_due is None
        assert customer.level is None
        assert not customer.tags.filter(name="企业采购").exists()
        assert RoundRobinPointer.objects.get(team=reps).last_user == rep("r1")
        assert not RuleRun.objects.exists()
        assert not Notification.objects.filter(verb="customer_assigned").exists()

    def test_describe_does_not_create_the_pointer(
        self, django_capture_on_commit_callbacks, online_ads, reps
    ):
        customer = capture(django_capture_on_commit_callbacks, online_ads)
        rule = make_rule(assign(Mode.LEAST_LOADED, team=reps))

        outcome = services.rule_try(rule=rule, record=customer)

        assert outcome.actions == [
            f"Would assign to {rep('r1')}: least loaded in 销售三组 (0 customers in follow-up)"
        ]
        assert not RoundRobinPointer.objects.exists()

    def test_try_reports_a_failure_without_leaving_it_on_the_lead(
        self, django_capture_on_commit_callbacks, online_ads, alice
    ):
        customer = capture(django_capture_on_commit_callbacks, online_ads)
        User.objects.filter(pk=alice.pk).update(is_active=False)
        alice.refresh_from_db()
        rule = make_rule(assign(Mode.FIXED, user=alice))

        outcome = services.rule_try(rule=rule, record=customer)

        assert outcome.error.startswith(f"{alice} cannot take the customer")
        customer.refresh_from_db()
        assert customer.assignment_error == ""


# --- the admin form ------------------------------------------------------------------------------


def rule_form(*, conditions=(), actions=()) -> dict:
    data = {
        "name": "线上广告线索",
        "description": "",
        "trigger": LEAD_CAPTURED,
        "delay_hours": "0",
        "order": "10",
        "is_active": "on",
    }
    for prefix, rows in (("conditions", conditions), ("actions", actions)):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for index, row in enumerate(rows):
            data |= {f"{prefix}-{index}-{name}": value for name, value in row.items()}
    return data


def action_row(**fields) -> dict:
    row = {
        "order": "1",
        "type": ASSIGN,
        "mode": "",
        "user": "",
        "team": "",
        "recipients": "",
        "role": "",
        "template": "",
        "hours": "",
        "field": "",
        "value": "",
    }
    return row | {name: str(value) for name, value in fields.items()}


def inline_errors(response, prefix: str) -> list:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return inline.formset.errors
    raise AssertionError(prefix)


class TestAdminForm:
    url = "/admin/automation/rule/add/"

    @pytest.fixture(autouse=True)
    def _english_admin(self, client, settings):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def test_a_valid_rule_is_saved(self, client_for, admin_user, reps):
        response = client_for(admin_user).post(
            self.url,
            rule_form(
                conditions=[
                    {"group": "1", "field": "source", "operator": "eq", "value": "online_ads"}
                ],
                actions=[action_row(mode=Mode.ROUND_ROBIN, team=reps.pk)],
            ),
        )

        assert response.status_code == 302, response.context and response.context.get("errors")
        rule = Rule.objects.get()
        assert rule.actions.get().team == reps
        assert rule.conditions.get().field == "source"

    def test_round_robin_without_a_team_is_refused(self, client_for, admin_user):
        response = client_for(admin_user).post(
            self.url, rule_form(actions=[action_row(mode=Mode.ROUND_ROBIN)])
        )

        assert response.status_code == 200
        assert not Rule.objects.exists()
        assert inline_errors(response, "actions")[0]["team"] == [
            "Round-robin and least-loaded assignment need a team."
        ]

    def test_a_condition_on_an_unknown_field_is_refused(self, client_for, admin_user, alice):
        response = client_for(admin_user).post(
            self.url,
            rule_form(
                conditions=[{"group": "1", "field": "password", "operator": "eq", "value": "x"}],
                actions=[action_row(mode=Mode.FIXED, user=alice.pk)],
            ),
        )

        assert response.status_code == 200
        assert not Rule.objects.exists()
        # The field is a choice of the declared fields; "password" is not among them.
        assert inline_errors(response, "conditions")[0]["field"]

    @pytest.mark.parametrize(
        ("row", "field", "message"),
        [
            (
                {"type": "customers.set_field", "field": "owner", "value": "alice"},
                "field",
                "“owner” cannot be set by a rule.",
            ),
            (
                {"type": "customers.set_field", "field": "status", "value": "archived"},
                "value",
                "“archived” is not a choice of status.",
            ),
            (
                {"type": "customers.add_tags", "value": "企业采购，没有这个"},
                "value",
                "Unknown tags: 没有这个.",
            ),
            ({"type": "customers.set_follow_up_due"}, "hours", "This action needs this field."),
            ({"mode": Mode.FIXED}, "user", "Assigning to a fixed user needs the user."),
        ],
    )
    def test_action_settings_are_checked(self, client_for, admin_user, row, field, message):
        response = client_for(admin_user).post(self.url, rule_form(actions=[action_row(**row)]))

        assert response.status_code == 200
        assert inline_errors(response, "actions")[0][field][0].startswith(message)


class TestTerritoryAdmin:
    url = "/admin/customers/territory/"

    @pytest.fixture(autouse=True)
    def _english_admin(self, client, settings):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def test_admins_edit_the_territory_table(
        self, client_for, admin_user, east, alice, territories
    ):
        client = client_for(admin_user)
        assert client.get(self.url).status_code == 200
        south = Region.objects.get(code="SOUTH")
        form = {"region": south.pk, "industry": "", "user": "", "team": ""}

        refused = client.post(f"{self.url}add/", form)
        assert "Choose a user or a team." in refused.content.decode()
        duplicate = client.post(f"{self.url}add/", form | {"region": east.pk, "user": alice.pk})
        assert "This region already has a line for every industry." in duplicate.content.decode()
        assert client.post(f"{self.url}add/", form | {"user": alice.pk}).status_code == 302
        assert Territory.objects.get(region=south).user == alice
