"""The stale-in-stage reminder: after the stage's days untouched (proposal: 7), once per stay."""

import datetime

import pytest
import time_machine

from crm.notifications.models import Notification
from opportunities import reminders, services

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)


def sweep(at):
    with time_machine.travel(at, tick=False):
        return reminders.remind_stale_opportunities(now=at)


@pytest.fixture
def in_proposal(alice, alices_customer, make_opportunity):
    with time_machine.travel(START, tick=False):
        return make_opportunity(alices_customer, alice, "proposal")


def test_it_reminds_after_seven_untouched_days_once(alice, in_proposal):
    assert sweep(START + datetime.timedelta(days=6, hours=23)) == 0
    assert sweep(START + datetime.timedelta(days=7)) == 1
    assert sweep(START + datetime.timedelta(days=8)) == 0

    note = Notification.objects.get(recipient=alice, verb="opportunity_stale")
    assert in_proposal.name in note.title
    assert "阶段已 7 天未更新" in note.title  # in alice's language, with the stage


def test_a_touch_restarts_the_count(alice, in_proposal):
    with time_machine.travel(START + datetime.timedelta(days=5), tick=False):
        services.opportunity_update(opportunity=in_proposal, by=alice, next_step="约见决策人")

    assert sweep(START + datetime.timedelta(days=8)) == 0
    assert sweep(START + datetime.timedelta(days=12)) == 1


def test_a_new_stay_in_the_stage_is_a_new_occurrence(alice, in_proposal, stage):
    assert sweep(START + datetime.timedelta(days=7)) == 1
    with time_machine.travel(START + datetime.timedelta(days=9), tick=False):
        services.opportunity_move_stage(
            opportunity=in_proposal, stage=stage("negotiation"), by=alice
        )
        services.opportunity_move_stage(opportunity=in_proposal, stage=stage("proposal"), by=alice)

    assert sweep(START + datetime.timedelta(days=15)) == 0
    assert sweep(START + datetime.timedelta(days=16)) == 1


def test_stages_without_a_threshold_never_remind(alice, alices_customer, make_opportunity):
    with time_machine.travel(START, tick=False):
        make_opportunity(alices_customer, alice, "negotiation")

    assert sweep(START + datetime.timedelta(days=60)) == 0
