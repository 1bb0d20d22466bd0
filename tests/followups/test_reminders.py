"""Reminder sweeps with frozen time: each rule fires once, a second run sends nothing, a missed
run catches up, and each user's channel preferences are respected."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from crm.automation.models import Action
from crm.automation.registry import ActionError, RunContext
from crm.automation.registry import action as action_type
from crm.core.models import CompanySettings
from crm.notifications.models import Notification
from customers import tiers
from customers.models import Contact, Customer, CustomerCategory, Tier
from customers.services import customer_create, customer_update
from followups import reminders
from followups.demo import seed_followups
from followups.models import (
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    Reminder,
    ReminderPreference,
)

NOW = datetime.datetime(2026, 3, 2, 2, 30, tzinfo=datetime.UTC)  # 10:30 in Shanghai
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def make_customer(db):
    category = CustomerCategory.objects.get(name="企业客户")

    def make(owner, name: str = "杭州示例科技有限公司", **fields) -> Customer:
        return customer_create(
            by=owner,
            owner=owner,
            name=name,
            category=category,
            contacts=[{"name": "王经理", "phone": "13812345678"}],
            **fields,
        )

    return make


@pytest.fixture
def customer(alice, make_customer) -> Customer:
    return make_customer(alice)


@pytest.fixture
def make_task(customer):
    def make(due_at: datetime.datetime, *, owner=None, remind_at=None, **fields) -> FollowUpTask:
        return FollowUpTask.objects.create(
            customer=fields.pop("for_customer", customer),
            owner=owner or customer.owner,
            title="电话回访",
            due_at=due_at,
            remind_at=remind_at,
            **fields,
        )

    return make


def add_record(customer: Customer, occurred_at: datetime.datetime) -> FollowUpRecord:
    return FollowUpRecord.objects.create(
        customer=customer,
        owner=customer.owner,
        occurred_at=occurred_at,
        method=FollowUpMethod.objects.get(code="phone"),
        topic="需求沟通",
        summary="确认需求",
        next_step="发送方案",
        next_step_at=occurred_at + 7 * DAY,
    )


def notices(verb: str, user=None) -> list[Notification]:
    rows = Notification.objects.filter(verb=verb)
    if user is not None:
        rows = rows.filter(recipient=user)
    return list(rows)


# --- before the task


def test_it_reminds_the_owner_once_when_the_offset_comes(alice, make_task, time_machine):
    due = NOW + 2 * HOUR
    task = make_task(due, remind_at=due - HOUR)

    assert reminders.remind_before_tasks(now=NOW) == 0  # an hour too early

    time_machine.move_to(NOW + HOUR, tick=False)
    assert reminders.remind_before_tasks(now=NOW + HOUR) == 1
    assert reminders.remind_before_tasks(now=NOW + HOUR) == 0

    task.refresh_from_db()
    assert task.reminded_at == NOW + HOUR
    (notice,) = notices("followup_before_task")
    assert notice.recipient == alice
    assert "电话回访" in notice.title


def test_a_rescheduled_task_is_reminded_again_for_its_new_time(make_task):
    task = make_task(NOW + HOUR, remind_at=NOW - HOUR)
    reminders.remind_before_tasks(now=NOW)
    FollowUpTask.objects.filter(pk=task.pk).update(
        due_at=NOW + 5 * HOUR, remind_at=NOW + 4 * HOUR, reminded_at=None
    )

    assert reminders.remind_before_tasks(now=NOW + 4 * HOUR) == 1
    assert Reminder.objects.filter(kind=Reminder.Kind.BEFORE_TASK).count() == 2


def test_done_tasks_are_not_reminded(make_task):
    make_task(NOW + HOUR, remind_at=NOW - HOUR, status=FollowUpTask.Status.DONE)

    assert reminders.remind_before_tasks(now=NOW) == 0


def test_a_missed_run_catches_up_on_every_reminder_due_since(make_task):
    for days in (1, 2, 3):
        make_task(NOW - days * DAY, remind_at=NOW - days * DAY - HOUR)

    assert reminders.remind_before_tasks(now=NOW) == 3
    assert reminders.remind_before_tasks(now=NOW) == 0


# --- overdue and escalation


def test_it_tells_the_owner_once_when_a_task_is_overdue(alice, manager, make_task):
    task = make_task(NOW - HOUR)

    assert reminders.remind_overdue_tasks(now=NOW) == 1
    assert reminders.remind_overdue_tasks(now=NOW) == 0

    assert [n.recipient for n in notices("followup_overdue")] == [alice]
    assert notices("followup_overdue_escalation") == []
    task.refresh_from_db()
    assert task.overdue_notified_at == NOW
    assert task.escalated_at is None


def test_it_escalates_to_the_team_head_only_after_the_delay(alice, manager, make_task):
    task = make_task(NOW - HOUR)
    reminders.remind_overdue_tasks(now=NOW)

    assert reminders.remind_overdue_tasks(now=NOW + 22 * HOUR) == 0  # overdue 23 hours
    assert reminders.remind_overdue_tasks(now=NOW + 23 * HOUR) == 1  # overdue 24 hours
    assert reminders.remind_overdue_tasks(now=NOW + 30 * HOUR) == 0

    (notice,) = notices("followup_overdue_escalation")
    assert notice.recipient == manager
    assert len(notices("followup_overdue", alice)) == 1
    task.refresh_from_db()
    assert task.escalated_at == NOW + 23 * HOUR


def test_the_escalation_delay_is_read_from_settings_at_call_time(manager, make_task, settings):
    make_task(NOW - 3 * HOUR)
    settings.FOLLOWUP_ESCALATE_AFTER_HOURS = 2

    assert reminders.remind_overdue_tasks(now=NOW) == 2  # the owner, then the head

    assert [n.recipient for n in notices("followup_overdue_escalation")] == [manager]


def test_a_missed_run_sends_both_the_overdue_notice_and_the_escalation(alice, manager, make_task):
    make_task(NOW - 3 * DAY)

    assert reminders.remind_overdue_tasks(now=NOW) == 2
    assert reminders.remind_overdue_tasks(now=NOW) == 0


def test_a_head_with_an_overdue_task_escalates_to_the_next_head_up(
    manager, make_task, sales_department, alice
):
    director = type(alice).objects.create(username="director", team=sales_department)
    sales_department.head = director
    sales_department.save(update_fields=["head"])
    make_task(NOW - 2 * DAY, owner=manager)

    reminders.remind_overdue_tasks(now=NOW)

    assert [n.recipient for n in notices("followup_overdue_escalation")] == [director]


def test_an_owner_without_a_head_is_escalated_to_nobody_but_leaves_the_scan(charlie, make_task):
    task = make_task(NOW - 2 * DAY, owner=charlie)

    assert reminders.remind_overdue_tasks(now=NOW) == 1  # the owner only
    task.refresh_from_db()
    assert task.escalated_at == NOW


def test_the_overdue_sweep_costs_the_same_queries_for_2_or_20_tasks(
    alice, manager, make_task, django_assert_num_queries
):
    make_task(NOW - 30 * HOUR)
    reminders.remind_overdue_tasks(now=NOW)  # warms the content types' cache
    for count in (2, 20):
        for _index in range(count):
            make_task(NOW - 30 * HOUR)  # overdue and due for its escalation at once
        CompanySettings.load()
        # the team tree, its heads, the page; for the chunk: savepoint, lock and claim the
        # overdue notices, lock and claim the escalations, the reminder rows, the recipients'
        # preferences, notify's savepoint, the notifications' ids, release, release
        with django_assert_num_queries(3 + 11):
            assert reminders.remind_overdue_tasks(now=NOW) == 2 * count
    assert len(notices("followup_overdue_escalation", manager)) == 23


def test_a_task_that_fails_holds_up_none_of_the_others_and_is_tried_again(
    alice, make_task, monkeypatch
):
    tasks = [make_task(NOW - HOUR) for _ in range(4)]
    poison = tasks[2]
    real_url = reminders._url

    def url(record):  # type: ignore[no-untyped-def]
        if record.pk == poison.pk:
            raise ValueError("poison")
        return real_url(record)

    monkeypatch.setattr(reminders, "_url", url)

    assert reminders.remind_overdue_tasks(now=NOW) == 3

    assert sorted(n.target_id for n in notices("followup_overdue")) == sorted(
        task.pk for task in tasks if task != poison
    )
    poison.refresh_from_db()
    assert poison.overdue_notified_at is None
    assert not Reminder.objects.filter(target_id=poison.pk).exists()

    monkeypatch.setattr(reminders, "_url", real_url)
    assert reminders.remind_overdue_tasks(now=NOW) == 1
    assert len(notices("followup_overdue")) == 4


# --- preferences


def test_email_goes_out_by_default(alice, make_task, django_capture_on_commit_callbacks):
    make_task(NOW - HOUR)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_overdue_tasks(now=NOW)

    assert [message.to for message in mail.outbox] == [[alice.email]]


def test_email_off_still_reaches_the_inbox(alice, make_task, django_capture_on_commit_callbacks):
    ReminderPreference.objects.create(
        user=alice, kind=Reminder.Kind.OVERDUE, in_app=True, email=False
    )
    make_task(NOW - HOUR)

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.remind_overdue_tasks(now=NOW) == 1

    assert mail.outbox == []
    (notice,) = notices("followup_overdue", alice)
    assert notice.read_at is None


def test_inbox_off_sends_the_email_and_files_the_notice_as_read(
    alice, make_task, django_capture_on_commit_callbacks
):
    ReminderPreference.objects.create(
        user=alice, kind=Reminder.Kind.OVERDUE, in_app=False, email=True
    )
    make_task(NOW - HOUR)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_overdue_tasks(now=NOW)

    assert len(mail.outbox) == 1
    assert Notification.objects.unread().filter(recipient=alice).count() == 0


def test_both_off_sends_nothing_and_still_counts_as_done(alice, make_task):
    ReminderPreference.objects.create(
        user=alice, kind=Reminder.Kind.OVERDUE, in_app=False, email=False
    )
    make_task(NOW - HOUR)

    reminders.remind_overdue_tasks(now=NOW)

    assert notices("followup_overdue") == []
    assert reminders.remind_overdue_tasks(now=NOW) == 0


def test_the_preferences_page_saves_the_choices(alice, client_for):
    client = client_for(alice)
    url = reverse("followups:preferences")

    page = client.get(url)
    assert page.status_code == 200
    assert page.content.count(b'type="checkbox"') == 2 * len(Reminder.Kind.values)

    response = client.post(url, {"overdue-in_app": "on", "birthday-email": "on"})

    assert response.status_code == 302
    assert reminders.channels(alice, Reminder.Kind.OVERDUE) == (True, False)
    assert reminders.channels(alice, Reminder.Kind.BIRTHDAY) == (False, True)
    assert reminders.channels(alice, Reminder.Kind.BEFORE_TASK) == (False, False)
    client.post(
        url,
        {f"{kind}-{way}": "on" for kind in Reminder.Kind.values for way in ("in_app", "email")},
    )
    assert not ReminderPreference.objects.filter(user=alice).exists()  # all back to the default


# --- no contact after assignment


@pytest.fixture
def assigned(customer):
    def at(moment: datetime.datetime) -> Customer:
        Customer.objects.filter(pk=customer.pk).update(assigned_at=moment)
        customer.refresh_from_db()
        return customer

    return at


def test_it_warns_owner_and_manager_three_days_after_assignment(alice, manager, assigned):
    assigned(NOW - 3 * DAY - HOUR)

    assert reminders.warn_no_contact(now=NOW) == 2
    assert reminders.warn_no_contact(now=NOW) == 0

    assert {n.recipient for n in notices("followup_no_contact")} == {alice, manager}


def test_no_warning_within_three_days(manager, assigned):
    assigned(NOW - 2 * DAY)

    assert reminders.warn_no_contact(now=NOW) == 0


def test_no_warning_when_a_record_exists_since_assignment(manager, assigned):
    customer = assigned(NOW - 4 * DAY)
    add_record(customer, NOW - 3 * DAY)

    assert reminders.warn_no_contact(now=NOW) == 0


def test_a_record_from_before_the_assignment_does_not_count(manager, assigned):
    customer = assigned(NOW - 4 * DAY)
    add_record(customer, NOW - 5 * DAY)

    assert reminders.warn_no_contact(now=NOW) == 2


def test_assignments_older_than_the_look_back_are_left_alone(manager, assigned):
    assigned(NOW - 31 * DAY)

    assert reminders.warn_no_contact(now=NOW) == 0


def test_a_new_assignment_warns_again(alice, bob, manager, assigned):
    customer = assigned(NOW - 10 * DAY)
    reminders.warn_no_contact(now=NOW)
    Customer.objects.filter(pk=customer.pk).update(owner=bob, assigned_at=NOW - 4 * DAY)

    assert reminders.warn_no_contact(now=NOW) == 2
    assert {n.recipient for n in notices("followup_no_contact")} == {alice, bob, manager}


# --- birthdays and contracts


def contact_born(customer: Customer, birthday: datetime.date) -> Contact:
    return Contact.objects.create(customer=customer, name="李总", birthday=birthday)


def test_it_reminds_the_owner_three_days_before_a_birthday(alice, customer, time_machine):
    contact = contact_born(customer, datetime.date(1980, 3, 5))  # NOW is 2 March
    contact_born(customer, datetime.date(1980, 3, 6))  # four days ahead: not yet

    assert reminders.remind_birthdays(now=NOW) == 1
    assert reminders.remind_birthdays(now=NOW) == 0

    reminder = Reminder.objects.get(kind=Reminder.Kind.BIRTHDAY)
    assert (reminder.target_id, reminder.occasion) == (contact.pk, "2026-03-05")
    assert reminders.remind_birthdays(now=NOW + DAY) == 1  # now the 6 March one only
    assert notices("followup_birthday")[0].recipient == alice

    next_year = NOW.replace(year=2027)
    time_machine.move_to(next_year, tick=False)
    assert reminders.remind_birthdays(now=next_year) == 1  # 2027-03-05


def test_a_missed_birthday_run_still_reminds_before_the_day(customer):
    contact_born(customer, datetime.date(1980, 3, 3))

    assert reminders.remind_birthdays(now=NOW) == 1


def test_a_leap_day_birthday_is_reminded_in_common_years(customer):
    contact_born(customer, datetime.date(1988, 2, 29))
    feb_26 = datetime.datetime(2026, 2, 26, 2, 0, tzinfo=datetime.UTC)

    assert reminders.remind_birthdays(now=feb_26) == 1
    assert Reminder.objects.get().occasion == "2026-02-28"


def test_contract_expiry_does_nothing_without_a_source(customer):
    assert reminders.remind_contract_expiry(now=NOW) == 0


def test_contract_expiry_reminds_the_owner_once_within_30_days(alice, customer):
    asked = []

    def contracts(start, end):
        asked.append((start, end))
        return [
            (customer.pk, 77, datetime.date(2026, 3, 30), "HT2026001"),
            (customer.pk, 78, datetime.date(2026, 3, 31), "HT2026002"),
        ]

    reminders.register_contract_source(contracts)
    try:
        assert reminders.remind_contract_expiry(now=NOW) == 2
        assert reminders.remind_contract_expiry(now=NOW) == 0
    finally:
        reminders.unregister_contract_source(contracts)

    assert asked[0] == (datetime.date(2026, 3, 2), datetime.date(2026, 4, 1))
    assert {n.recipient for n in notices("followup_contract_expiry")} == {alice}
    assert any("HT2026001" in n.body for n in notices("followup_contract_expiry"))
    assert sorted(Reminder.objects.values_list("occasion", flat=True)) == [
        "77:2026-03-30",
        "78:2026-03-31",
    ]


# --- maintenance by value tier


@pytest.fixture
def won(make_customer, alice):
    def make(tier: str, name: str) -> Customer:
        customer = make_customer(alice, name=name)
        Customer.objects.filter(pk=customer.pk).update(
            type=Customer.Type.WON, value_tier=tier, created_at=NOW - 400 * DAY
        )
        return customer

    return make


def maintenance_titles(customer: Customer) -> list[str]:
    return sorted(
        FollowUpTask.objects.filter(
            customer=customer, kind=FollowUpTask.Kind.MAINTENANCE
        ).values_list("title", flat=True)
    )


def test_maintenance_creates_tasks_by_tier_once(alice, won):
    high = won(Tier.HIGH, "高价值客户")
    medium = won(Tier.MEDIUM, "中价值客户")
    low = won(Tier.LOW, "低价值客户")

    assert reminders.create_maintenance_tasks(now=NOW) == 4
    assert reminders.create_maintenance_tasks(now=NOW) == 0
    assert reminders.create_maintenance_tasks(now=NOW + DAY) == 0

    assert len(maintenance_titles(high)) == 2  # monthly contact and quarterly custom service
    assert len(maintenance_titles(medium)) == 1
    assert len(maintenance_titles(low)) == 1
    assert len(notices("followup_maintenance", alice)) == 4


def test_maintenance_skips_customers_with_a_pending_task_or_a_recent_record(won, make_task):
    medium = won(Tier.MEDIUM, "中价值客户")
    low = won(Tier.LOW, "低价值客户")
    add_record(medium, NOW - 80 * DAY)  # within the quarter
    make_task(NOW + DAY, for_customer=low)

    assert reminders.create_maintenance_tasks(now=NOW) == 0


def test_the_next_cycle_creates_the_next_task(won):
    medium = won(Tier.MEDIUM, "中价值客户")
    reminders.create_maintenance_tasks(now=NOW)
    FollowUpTask.objects.filter(customer=medium).update(status=FollowUpTask.Status.DONE)

    assert reminders.create_maintenance_tasks(now=NOW + 30 * DAY) == 0
    assert reminders.create_maintenance_tasks(now=NOW + 92 * DAY) == 1


# --- welcome tasks for a newly won customer


def test_a_newly_won_customer_gets_welcome_tasks_once(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, by=None, changes={"type": Customer.Type.WON})
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, by=None, changes={"type": Customer.Type.INTENTION})
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, by=None, changes={"type": Customer.Type.WON})

    tasks = FollowUpTask.objects.filter(customer=customer).order_by("due_at")
    assert [(task.kind, task.due_at) for task in tasks] == [
        (FollowUpTask.Kind.WELCOME, NOW + 3 * DAY),
        (FollowUpTask.Kind.FIRST_USE, NOW + 7 * DAY),
    ]
    assert {task.owner_id for task in tasks} == {customer.owner_id}


def test_other_changes_create_no_welcome_tasks(customer, django_capture_on_commit_callbacks):
    Customer.objects.filter(pk=customer.pk).update(type=Customer.Type.WON)
    customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, by=None, changes={"notes": "老客户"})

    assert not FollowUpTask.objects.filter(customer=customer).exists()


# --- the automation action, the activity source, the demo


def test_the_create_task_action_uses_the_named_template(alice, customer):
    create_task = action_type("followups.create_task")
    action = Action(type="followups.create_task", value="首次电话", hours=48)

    assert "首次电话" in create_task.describe(customer, action)
    assert not FollowUpTask.objects.exists()  # describe changes nothing

    create_task.apply(customer, action, RunContext(event=None, rule=None))

    task = FollowUpTask.objects.get()
    assert (task.owner, task.kind, task.title) == (alice, FollowUpTask.Kind.RULE, "首次电话")
    assert task.due_at == NOW + 48 * HOUR
    assert task.content


def test_the_create_task_action_refuses_an_unknown_template(customer):
    from django.core.exceptions import ValidationError

    create_task = action_type("followups.create_task")
    with pytest.raises(ValidationError):
        create_task.clean({"value": "没有这个模板"})
    with pytest.raises(ActionError):
        create_task.apply(customer, Action(value="没有这个模板"), RunContext(None, None))


def test_follow_up_records_count_as_activity(customer):
    add_record(customer, NOW - 10 * DAY)
    add_record(customer, NOW - 20 * DAY)
    add_record(customer, NOW - 300 * DAY)

    assert reminders.follow_up_records in tiers._activity_sources
    assert reminders.follow_up_records(NOW - 180 * DAY) == {customer.pk: 2}


def test_the_demo_step_is_repeatable(alice, make_customer):
    for index in range(6):
        customer = make_customer(alice, name=f"演示客户{index}")
        Customer.objects.filter(pk=customer.pk).update(type=Customer.Type.WON)

    seed_followups()
    counts = (FollowUpRecord.objects.count(), FollowUpPlan.objects.count())
    seed_followups()

    assert counts[0] > 0
    assert (FollowUpRecord.objects.count(), FollowUpPlan.objects.count()) == counts
