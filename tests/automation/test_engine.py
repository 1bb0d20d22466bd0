"""The engine on a minimal record (tests.testapp.Note): conditions, order, idempotency, the
delayed sweep, failure alerts and "try it"."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from crm.automation import engine, registry, services
from crm.automation.models import Action, Condition, FailureAlert, Rule, RuleRun
from crm.core import events
from crm.core.models import DomainEvent
from tests.testapp.models import Note

events.declare(
    events.EventType(
        "note.saved",
        "Note saved",
        {"title": "title", "owner": "owner", "shared_with": "shared"},
        "testapp.note",
    )
)


def retitle(record, action, context):
    if action.value == "fail":
        raise registry.ActionError("cannot")
    Note.objects.filter(pk=record.pk).update(title=action.value)
    return f"retitled to {action.value}"


registry.register(
    registry.ActionType(
        code="test.retitle",
        label="Retitle",
        apply=retitle,
        describe=lambda record, action: f"would retitle to {action.value}",
        model="testapp.note",
        is_assignment=True,
    )
)

Op = Condition.Operator


@pytest.fixture
def note(alice):
    return Note.objects.create(title="华东 展会 线索", owner=alice)


def make_rule(*conditions, actions=("done",), **fields):
    rule = Rule.objects.create(name=fields.pop("name", "r"), trigger="note.saved", **fields)
    for group, field, operator, value in conditions:
        Condition.objects.create(
            rule=rule, group=group, field=field, operator=operator, value=value
        )
    for order, value in enumerate(actions, start=1):
        Action.objects.create(rule=rule, order=order, type="test.retitle", value=value)
    return rule


def emit(note, **payload):
    return events.emit("note.saved", note, data=payload)


class TestConditions:
    @pytest.mark.parametrize(
        ("operator", "value", "expected"),
        [
            (Op.EQUALS, "华东 展会 线索", True),
            (Op.EQUALS, "别的", False),
            (Op.NOT_EQUALS, "别的", True),
            (Op.CONTAINS, "展会", True),
            (Op.IN, "甲, 华东 展会 线索", True),
            (Op.IS_EMPTY, "", False),
        ],
    )
    def test_operators_on_text(self, note, operator, value, expected):
        from crm.automation.conditions import holds

        assert holds(Condition(field="title", operator=operator, value=value), note) is expected

    def test_related_records_match_by_name_or_id(self, note, alice):
        from crm.automation.conditions import holds

        assert holds(Condition(field="owner", operator=Op.EQUALS, value="alice"), note)
        assert holds(Condition(field="owner", operator=Op.EQUALS, value=str(alice.pk)), note)

    def test_many_to_many_contains_a_member(self, note, bob):
        from crm.automation.conditions import holds

        note.shared_with.add(bob)
        assert holds(Condition(field="shared_with", operator=Op.CONTAINS, value="bob"), note)
        assert not holds(Condition(field="shared_with", operator=Op.CONTAINS, value="carl"), note)

    def test_numbers_compare_as_numbers(self, note):
        from crm.automation.conditions import holds

        note.title = "120000"
        assert holds(Condition(field="title", operator=Op.GREATER, value="99999.5"), note)
        assert not holds(Condition(field="title", operator=Op.LESS, value="100"), note)
        note.title = "abc"
        assert not holds(Condition(field="title", operator=Op.GREATER, value="1"), note)

    def test_changed_to_needs_the_field_among_the_changes(self, note):
        from crm.automation.conditions import holds

        condition = Condition(field="title", operator=Op.CHANGED_TO, value="华东 展会 线索")
        assert holds(condition, note, changed=["title"])
        assert not holds(condition, note, changed=["owner"])

    def test_groups_are_or_ed_and_conditions_within_them_and_ed(self, note):
        from crm.automation.conditions import matches

        a = Condition(group=1, field="title", operator=Op.CONTAINS, value="展会")
        b = Condition(group=1, field="title", operator=Op.CONTAINS, value="华南")
        c = Condition(group=2, field="owner", operator=Op.EQUALS, value="alice")
        assert not matches([a, b], note)
        assert matches([a, b, c], note)
        assert matches([], note)


class TestEngine:
    def test_a_matching_rule_runs_its_actions_once_per_event(self, note):
        rule = make_rule((1, "title", Op.CONTAINS, "展会"), actions=("handled",))
        event = emit(note)
        events.deliver(event.pk)
        events.deliver(event.pk)  # a redelivered event
        assert engine.run_rule(rule, event, note) is None  # a retried task
        run = RuleRun.objects.get()
        assert run.status == RuleRun.Status.SUCCESS
        assert run.actions_taken == ["retitled to handled"]
        note.refresh_from_db()
        assert note.title == "handled"

    def test_a_rule_that_does_not_match_is_logged_and_does_nothing(self, note):
        make_rule((1, "title", Op.CONTAINS, "华南"))
        events.deliver(emit(note).pk)
        assert RuleRun.objects.get().status == RuleRun.Status.NOT_MATCHED
        note.refresh_from_db()
        assert note.title == "华东 展会 线索"

    def test_rules_run_in_order_and_stop_after_a_match(self, note):
        make_rule(actions=("second",), order=2, name="second")
        make_rule(actions=("first",), order=1, name="first", stop_after_match=True)
        events.deliver(emit(note).pk)
        assert list(RuleRun.objects.values_list("rule__name", flat=True)) == ["first"]

    def test_inactive_rules_and_other_triggers_are_ignored(self, note):
        make_rule(is_active=False)
        Rule.objects.create(name="other", trigger="customer.created")
        events.deliver(emit(note).pk)
        assert not RuleRun.objects.exists()

    def test_a_failing_action_is_logged_and_later_rules_still_run(self, note):
        make_rule(actions=("fail",), order=1, name="broken")
        make_rule(actions=("fine",), order=2, name="fine")
        events.deliver(emit(note).pk)
        runs = {run.rule.name: run for run in RuleRun.objects.select_related("rule")}
        assert runs["broken"].status == RuleRun.Status.FAILED
        assert runs["broken"].error == "cannot"
        assert runs["broken"].assignment_failed
        assert runs["fine"].status == RuleRun.Status.SUCCESS

    def test_try_it_reports_without_changing_anything(self, note):
        rule = make_rule((1, "title", Op.CONTAINS, "展会"), actions=("x",))
        outcome = services.rule_try(rule=rule, record=note)
        assert outcome.matched
        assert outcome.actions == ["would retitle to x"]
        note.refresh_from_db()
        assert note.title == "华东 展会 线索"
        assert not RuleRun.objects.exists()


class TestDelayedRules:
    def test_a_delayed_rule_runs_once_when_due_and_catches_up_after_a_missed_sweep(self, note):
        start = timezone.now()
        with time_machine.travel(start - datetime.timedelta(minutes=1)):
            rule = make_rule((1, "title", Op.CONTAINS, "展会"), actions=("late",), delay_hours=48)
        with time_machine.travel(start):
            event = emit(note)
            events.deliver(event.pk)  # immediate delivery leaves delayed rules alone
        assert not RuleRun.objects.exists()
        assert services.rules_run_delayed(now=start + datetime.timedelta(hours=47)) == 0
        later = start + datetime.timedelta(hours=60)  # the 48th-hour sweep was missed
        assert services.rules_run_delayed(now=later) == 1
        assert services.rules_run_delayed(now=later) == 0
        assert RuleRun.objects.get().rule == rule

    def test_conditions_are_tested_when_the_delay_is_over(self, note):
        start = timezone.now()
        with time_machine.travel(start - datetime.timedelta(minutes=1)):
            make_rule((1, "title", Op.CONTAINS, "展会"), delay_hours=1)
        with time_machine.travel(start):
            emit(note)
        Note.objects.filter(pk=note.pk).update(title="已跟进")
        services.rules_run_delayed(now=start + datetime.timedelta(hours=2))
        assert RuleRun.objects.get().status == RuleRun.Status.NOT_MATCHED


class TestFailureAlerts:
    def test_admins_are_told_once_a_day_when_failures_pass_the_threshold(self, note, admin_user):
        make_rule(actions=("fail",), name="broken")
        for _ in range(3):
            events.deliver(emit(note).pk)
        now = timezone.now()
        assert services.failure_alerts_send(now=now) == 1
        assert services.failure_alerts_send(now=now) == 0
        assert FailureAlert.objects.count() == 1
        assert admin_user.notifications.filter(verb="automation_failure_rate").count() == 1

    def test_a_rate_under_the_threshold_sends_nothing(self, note, admin_user):
        rule = make_rule(actions=("ok",), name="mostly fine")
        for _ in range(30):
            events.deliver(emit(note).pk)
        RuleRun.objects.filter(rule=rule).order_by("id").filter(
            pk__in=RuleRun.objects.filter(rule=rule).values("pk")[:1]
        ).update(assignment_failed=True, status=RuleRun.Status.FAILED)
        assert services.failure_alerts_send(now=timezone.now()) == 0

    def test_health_counts_per_rule_and_day(self, note):
        make_rule((1, "title", Op.CONTAINS, "展会"), name="counted")
        events.deliver(emit(note).pk)
        Note.objects.filter(pk=note.pk).update(title="无关")
        note.refresh_from_db()
        events.deliver(emit(note).pk)
        (row,) = services.health(since=timezone.now() - datetime.timedelta(days=1))
        assert (row.triggers, row.matches, row.successes, row.failures) == (2, 1, 1, 0)


def test_events_reach_the_engine_through_the_outbox(note, django_capture_on_commit_callbacks):
    make_rule(actions=("via outbox",))
    with django_capture_on_commit_callbacks(execute=True):
        emit(note)
    assert DomainEvent.objects.get().delivered_at is not None
    note.refresh_from_db()
    assert note.title == "via outbox"
