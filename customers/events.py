"""The events the customer archive emits, with the fields rule conditions may test."""

from django.utils.translation import gettext_lazy as _

from crm.core.events import EventType, declare

CUSTOMER_FIELDS = {
    "type": _("customer type"),
    "status": _("status"),
    "category": _("category"),
    "industry": _("industry"),
    "scale": _("scale"),
    "region": _("region"),
    "province": _("province"),
    "source": _("source channel"),
    "tags": _("tags"),
    "level": _("level"),
    "annual_amount": _("annual amount (¥)"),
    "owner": _("owner"),
    "lifecycle": _("lifecycle stage"),
    "value_tier": _("value tier"),
    "activity_tier": _("activity tier"),
}

CUSTOMER_CREATED = "customer.created"
CUSTOMER_CHANGED = "customer.changed"
LEAD_CAPTURED = "lead.captured"

MODEL = "customers.customer"

declare(EventType(CUSTOMER_CREATED, _("Customer created"), CUSTOMER_FIELDS, MODEL))
declare(EventType(CUSTOMER_CHANGED, _("Customer changed"), CUSTOMER_FIELDS, MODEL))
declare(EventType(LEAD_CAPTURED, _("Lead captured"), CUSTOMER_FIELDS, MODEL))
