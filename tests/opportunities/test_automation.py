"""Stage changes run automation: a rule on ``opportunity.stage_changed`` with a condition on the
stage (written as its code or its name) notifies the owner and their manager."""

import pytest

from crm.automation.models import Action, Condition, MessageTemplate, Rule
from crm.core import events
from crm.core.events import declared
from crm.core.models import DomainEvent
from crm.notifications.models import Notification
from opportunities import services

pytestmark = pytest.mark.django_db


def test_the_events_declare_their_condition_fields():
    fields = {event.name: set(event.fields) for event in declared()}
    for name in ("created", "stage_changed", "won", "lost"):
        assert {"stage", "owner", "amount"} <= fields[f"opportunity.{name}"]


@pytest.mark.parametrize("written", ["negotiation", "商务谈判"])
def test_a_stage_rule_notifies_the_owner_and_manager(alice, manager, opportunity, stage, written):
    rule = Rule.objects.create(name="谈判提醒法务", trigger="opportunity.stage_changed")
    Condition.objects.create(
        rule=rule, group=1, field="stage", operator=Condition.Operator.EQUALS, value=written
    )
    Action.objects.create(
        rule=rule,
        order=1,
        type="notify",
        recipients=Action.Recipients.OWNER_AND_MANAGER,
        template=MessageTemplate.objects.create(
            code="negotiation", subject="进入商务谈判", body="请法务准备合同。"
        ),
    )

    services.opportunity_move_stage(opportunity=opportunity, stage=stage("negotiation"), by=alice)
    event = DomainEvent.objects.get(name="opportunity.stage_changed")
    events.deliver(event.pk)

    recipients = set(
        Notification.objects.filter(title__contains="进入商务谈判").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"alice", "manager"}
