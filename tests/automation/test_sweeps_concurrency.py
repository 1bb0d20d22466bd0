"""The automation sweeps run by two workers at once: a delayed rule runs once per event (one
message per lead, not two), and admins hear of a failing rule once a day. Real threads and
transactions against Postgres."""

import datetime
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.automation import services
from crm.automation.models import Action, FailureAlert, MessageTemplate, Rule, RuleRun
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from customers.models import Customer, CustomerCategory
from customers.services import customer_create
from tests.concurrency import at_once, needs_postgres

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LEADS = 12


def test_two_workers_run_a_delayed_rule_once_per_event(alice):
    start = timezone.now() - datetime.timedelta(hours=3)
    rule = Rule.objects.create(
        name="两小时后提醒跟进", trigger="customer.created", delay_hours=2, created_at=start
    )
    Action.objects.create(
        rule=rule,
        type="notify",
        recipients=Action.Recipients.OWNER,
        template=MessageTemplate.objects.create(
            code="follow-up-late", subject="请跟进 {{ record }}", body="{{ record }} 仍待跟进"
        ),
    )
    category = CustomerCategory.objects.get(name="企业客户")
    customers = [
        customer_create(by=alice, owner=alice, name=f"延迟规则客户{index}", category=category)
        for index in range(LEADS)
    ]
    DomainEvent.objects.filter(name="customer.created").update(
        created_at=start + datetime.timedelta(minutes=1)
    )
    assert not RuleRun.objects.exists()  # the immediate delivery leaves delayed rules alone

    done = at_once(lambda: services.rules_run_delayed(now=timezone.now()))

    assert sum(done) == LEADS
    assert RuleRun.objects.filter(rule=rule, status=RuleRun.Status.SUCCESS).count() == LEADS
    messages = Notification.objects.filter(verb="automation_message", recipient=alice)
    assert Counter(messages.values_list("target_id", flat=True)) == {c.pk: 1 for c in customers}
    assert services.rules_run_delayed(now=timezone.now()) == 0


def test_two_workers_alert_admins_once_per_failing_rule(admin_user, alice):
    content_type = ContentType.objects.get_for_model(Customer)
    rules = [
        Rule.objects.create(name=f"失败规则{index}", trigger="customer.created")
        for index in range(5)
    ]
    for rule in rules:
        for _ in range(3):
            event = DomainEvent.objects.create(
                name="customer.created", content_type=content_type, object_id=1
            )
            RuleRun.objects.create(
                rule=rule,
                event=event,
                content_type=content_type,
                object_id=1,
                matched=True,
                assignment_failed=True,
                status=RuleRun.Status.FAILED,
            )

    sent = at_once(lambda: services.failure_alerts_send(now=timezone.now()))

    assert sum(sent) == len(rules)
    assert Counter(FailureAlert.objects.values_list("rule_id", flat=True)) == {
        rule.pk: 1 for rule in rules
    }
    alerts = Notification.objects.filter(recipient=admin_user, verb="automation_failure_rate")
    assert Counter(alerts.values_list("target_id", flat=True)) == {rule.pk: 1 for rule in rules}
