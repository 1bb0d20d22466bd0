"""Lead capture (线索采集): inquiries from the website form, exhibitions and the lead API."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import Province, Region
from crm.core import events
from crm.core.phones import normalize_phone, phone_index, validate_phone
from crm.notifications.services import notify
from customers.events import LEAD_CAPTURED
from customers.models import (
    Contact,
    Customer,
    CustomerCategory,
    CustomerTag,
    DemandTag,
    LeadInquiry,
    SourceChannel,
)
from customers.services import customer_create, event_snapshot

# The stored default is data, not UI text: every user sees the same placeholder name (SPEC §1).
UNKNOWN_CONTACT = "未知联系人"


@dataclass(frozen=True)
class LeadResult:
    customer: Customer
    created: bool
    inquiry: LeadInquiry


def _clean_lead(*, name: str, phone: str) -> tuple[str, str]:
    errors: dict[str, list[ValidationError]] = {}
    name = (name or "").strip()
    phone = (phone or "").strip()
    if not name:
        errors["name"] = [ValidationError(_("Enter the company or your name."), code="required")]
    if not phone:
        errors["phone"] = [ValidationError(_("Enter a phone number."), code="required")]
    else:
        try:
            validate_phone(phone)
        except ValidationError as error:
            errors["phone"] = error.error_list
    if errors:
        raise ValidationError(errors)
    return name, normalize_phone(phone)


def _lock_phone(index: str) -> None:
    # Two submissions of one new phone at the same moment would both find no contact and create
    # two customers; a transaction-scoped advisory lock on the phone serialises them. SQLite
    # needs none: its IMMEDIATE transactions already serialise writers.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"lead-phone:{index}"]
            )


def _default_category() -> CustomerCategory:
    category = CustomerCategory.objects.filter(is_active=True).first()
    if category is None:
        raise ValidationError(
            _("No active customer category is configured for leads."), code="no_category"
        )
    return category


@transaction.atomic
def lead_capture(
    *,
    source: SourceChannel,
    name: str,
    phone: str,
    contact_name: str = "",
    email: str = "",
    message: str = "",
    tags: list[DemandTag] | None = None,
    region: Region | None = None,
    province: Province | None = None,
    category: CustomerCategory | None = None,
    captured_at: datetime.datetime | None = None,
) -> LeadResult:
    """Records an inquiry as a to-be-assigned customer for the assignment rules, or, when a
    contact already has this phone, adds it to that customer and tells their owner.

    Either way a ``lead.captured`` event and a LeadInquiry row are written. The entry time is
    kept to the minute. Raises ValidationError (keyed by field) for a missing name or a bad phone.
    """
    name, phone = _clean_lead(name=name, phone=phone)
    contact_name = (contact_name or "").strip() or UNKNOWN_CONTACT
    entered_at = (captured_at or timezone.now()).replace(second=0, microsecond=0)
    wanted_tags = {tag.pk: tag for tag in [*source.default_tags.all(), *(tags or [])]}
    index = phone_index(phone)
    _lock_phone(index)
    existing = (
        Contact.objects.filter(phone_index=index)
        .select_related("customer__owner")
        .order_by("customer__created_at", "customer_id")
        .first()
    )
    if existing is None:
        customer = customer_create(
            by=None,
            owner=None,
            status=Customer.Status.TO_BE_ASSIGNED,
            event=LEAD_CAPTURED,
            name=name,
            category=category or _default_category(),
            source=source,
            region=region,
            province=province,
            first_contact_at=entered_at,
            notes=message,
            tags=list(wanted_tags.values()),
            contacts=[{"name": contact_name, "phone": phone, "email": email.strip()}],
        )
        inquiry = LeadInquiry.objects.create(
            customer=customer,
            source=source,
            contact_name=contact_name,
            message=message,
            created_new=True,
            captured_at=entered_at,
        )
        return LeadResult(customer=customer, created=True, inquiry=inquiry)
    return _add_inquiry(
        customer=existing.customer,
        source=source,
        contact_name=contact_name,
        message=message,
        tags=list(wanted_tags.values()),
        entered_at=entered_at,
    )


def _add_inquiry(
    *,
    customer: Customer,
    source: SourceChannel,
    contact_name: str,
    message: str,
    tags: list[DemandTag],
    entered_at: datetime.datetime,
) -> LeadResult:
    """A known phone asked again: no copy of the customer, only the inquiry, its tags (the
    channel's defaults and those the inquirer chose) and a word to the owner."""
    inquiry = LeadInquiry.objects.create(
        customer=customer,
        source=source,
        contact_name=contact_name,
        message=message,
        created_new=False,
        captured_at=entered_at,
    )
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag=tag) for tag in tags], ignore_conflicts=True
    )
    events.emit(
        LEAD_CAPTURED,
        customer,
        data={**event_snapshot(customer), "created_new": False, "inquiry": inquiry.pk},
    )
    if customer.owner is not None:
        notify(
            [customer.owner],
            "lead_inquiry",
            customer,
            url=customer.get_absolute_url(),
            context={"customer": customer, "inquiry": inquiry, "source": source},
        )
    return LeadResult(customer=customer, created=False, inquiry=inquiry)
