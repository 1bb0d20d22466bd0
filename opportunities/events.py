"""The events the pipeline emits, with the fields rule conditions may test."""

from django.utils.translation import gettext_lazy as _

from crm.core.events import EventType, declare

OPPORTUNITY_FIELDS = {
    "stage": _("stage"),
    "owner": _("owner"),
    "amount": _("expected amount (¥)"),
    "source": _("source channel"),
    "customer": _("customer"),
    "lost_reason": _("lost reason"),
}

OPPORTUNITY_CREATED = "opportunity.created"
OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed"
OPPORTUNITY_WON = "opportunity.won"
OPPORTUNITY_LOST = "opportunity.lost"

MODEL = "opportunities.opportunity"

declare(EventType(OPPORTUNITY_CREATED, _("Opportunity created"), OPPORTUNITY_FIELDS, MODEL))
declare(
    EventType(OPPORTUNITY_STAGE_CHANGED, _("Opportunity stage changed"), OPPORTUNITY_FIELDS, MODEL)
)
declare(EventType(OPPORTUNITY_WON, _("Opportunity won"), OPPORTUNITY_FIELDS, MODEL))
declare(EventType(OPPORTUNITY_LOST, _("Opportunity lost"), OPPORTUNITY_FIELDS, MODEL))
