"""seed_demo: a year of opportunities through every stage, orders and payments; idempotent."""

import pytest
from django.core.management import call_command

from opportunities.models import Instalment, Opportunity, Order, Receipt, Stage, StageVisit

pytestmark = pytest.mark.django_db


def counts():
    return (
        Opportunity.objects.count(),
        StageVisit.objects.count(),
        Order.objects.count(),
        Instalment.objects.count(),
        Receipt.objects.count(),
    )


def test_seed_demo_fills_the_pipeline_once(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)
    first = counts()

    call_command("seed_demo", stdout=None)

    assert counts() == first
    assert first[0] >= 150
    assert set(Opportunity.objects.values_list("stage__code", flat=True)) == set(
        Stage.objects.values_list("code", flat=True)
    )
    assert not Opportunity.objects.filter(stage__kind=Stage.Kind.LOST, lost_reason=None).exists()
    assert not Opportunity.objects.filter(stage__kind=Stage.Kind.WON, order=None).exists()
    assert Order.objects.filter(receipts__isnull=False).exists()
    # Every opportunity has exactly one current stay, in its current stage.
    for opportunity in Opportunity.objects.prefetch_related("stage_visits")[:50]:
        current = [visit for visit in opportunity.stage_visits.all() if visit.left_at is None]
        assert [visit.stage_id for visit in current] == [opportunity.stage_id]
