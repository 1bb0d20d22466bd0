"""Writes to the customer archive. Views, imports, the lead API and other apps come through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_request_create
from crm.core import bulk, events
from crm.core.numbering import next_number, next_numbers
from crm.core.phones import phone_index, phone_last4
from crm.notifications.services import notify
from customers.events import CUSTOMER_CHANGED, CUSTOMER_CREATED
from customers.models import Contact, Customer, CustomerTag, DemandTag, RevealLog
from customers.names import normalize_name, pinyin_forms

# Fields whose change by a rep needs the team head's approval (SPEC §1).
KEY_FIELDS = ("owner", "level", "annual_amount")
PRIMARY_CONTACT = "primary_contact"
NUMBER_PREFIX = "C"


# --- duplicates


@dataclass
class Duplicates:
    """Matches for a new or edited customer: those the user may see, and how many they may not."""

    visible: list[Customer] = field(default_factory=list)
    hidden_count: int = 0

    def __bool__(self) -> bool:
        return bool(self.visible) or self.hidden_count > 0


def find_duplicates(
    *,
    user: User,
    name: str = "",
    phones: list[str] | tuple[str, ...] = (),
    emails: list[str] | tuple[str, ...] = (),
    exclude_pk: int | None = None,
) -> Duplicates:
    """Customers with the same normalised name, a contact phone or a contact email."""
    condition = Q()
    normalized = normalize_name(name) if name else ""
    if normalized:
        condition |= Q(name_normalized=normalized)
    indexes = [phone_index(phone) for phone in phones if phone]
    if indexes:
        condition |= Q(contacts__phone_index__in=indexes)
    addresses = [email.strip() for email in emails if email and email.strip()]
    for address in addresses:
        condition |= Q(contacts__email__iexact=address)
    if not condition:
        return Duplicates()
    matches = Customer.objects.filter(condition)
    if exclude_pk is not None:
        matches = matches.exclude(pk=exclude_pk)
    match_ids = set(matches.values_list("pk", flat=True).distinct()[:50])
    if not match_ids:
        return Duplicates()
    visible = list(
        Customer.objects.visible_to(user).filter(pk__in=match_ids).select_related("owner")
    )
    return Duplicates(visible=visible, hidden_count=len(match_ids) - len(visible))


def can_create_customers(user: User) -> bool:
    """Sales reps, sales managers and admins add customers; the service desk and analysts don't."""
    return user.is_superuser or bool(user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN})


def can_override_duplicates(user: User) -> bool:
    """Who may save a customer despite a duplicate warning: managers and admins."""
    return user.is_superuser or bool(user.roles & {Role.SALES_MANAGER, Role.ADMIN})


# --- create and update


def _name_fields(name: str) -> dict[str, str]:
    name = name.strip()
    pinyin, initials = pinyin_forms(name)
    return {
        "name": name,
        "name_normalized": normalize_name(name),
        "name_pinyin": pinyin,
        "name_initials": initials,
    }


def _apply_name(customer: Customer) -> None:
    for name, value in _name_fields(customer.name).items():
        setattr(customer, name, value)


def _contact_phone_fields(phone: str | None) -> dict[str, str]:
    phone = (phone or "").strip()
    return {
        "phone": phone,
        "phone_index": phone_index(phone) if phone else "",
        "phone_last4": phone_last4(phone) if phone else "",
    }


def _apply_contact_phone(contact: Contact) -> None:
    for name, value in _contact_phone_fields(contact.phone).items():
        setattr(contact, name, value)


def _set_tags(customer: Customer, tags: list[DemandTag] | None) -> None:
    if tags is None:
        return
    wanted = {tag.pk for tag in tags}
    current = set(customer.tags.values_list("pk", flat=True))
    CustomerTag.objects.filter(customer=customer, tag_id__in=current - wanted).delete()
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag_id=tag_id) for tag_id in wanted - current],
        ignore_conflicts=True,
    )


def event_snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "type": customer.type,
        "status": customer.status,
        "source": customer.source_id,
        "region": customer.region_id,
        "industry": customer.industry_id,
        "category": customer.category_id,
        "owner": customer.owner_id,
    }


@transaction.atomic
def customer_create(
    *,
    by: User | None,
    contacts: list[dict[str, Any]] | None = None,
    tags: list[DemandTag] | None = None,
    shared_with: list[User] | None = None,
    event: str = CUSTOMER_CREATED,
    **fields: Any,
) -> Customer:
    """Creates a customer with its number (C + date + sequence) and contacts.

    Without an explicit owner, a rep becomes the owner of what they create; otherwise the
    category's default owner, and failing that the customer waits in the to-be-assigned pool.
    Duplicate checks are the caller's (form, import, lead API): they decide what to do on a match.
    """
    customer = Customer(**fields)
    if "owner" not in fields:
        if by is not None and Role.SALES_REP in by.roles:
            customer.owner = by
        elif customer.category_id and customer.category.default_owner_id:
            customer.owner = customer.category.default_owner
    if customer.owner_id is None:
        customer.status = Customer.Status.TO_BE_ASSIGNED
    else:
        customer.assigned_at = timezone.now()
    customer.created_by = by
    customer._history_user = by  # type: ignore[attr-defined]
    customer.number = next_number(NUMBER_PREFIX)
    _apply_name(customer)
    customer.full_clean(exclude=["number", "category"] if not customer.category_id else ["number"])
    customer.save()
    _set_tags(customer, tags)
    if shared_with:
        customer.shared_with.set(shared_with)
    for index, contact_fields in enumerate(contacts or []):
        contact_add(customer=customer, by=by, primary=index == 0, **contact_fields)
    events.emit(event, customer, actor=by, data=event_snapshot(customer))
    return customer


@dataclass
class NewCustomer:
    """One customer for ``customers_bulk_create``: its fields, contacts (the first is primary)
    and tags, already validated by the caller (an import's row checks)."""

    fields: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    tags: list[DemandTag] = field(default_factory=list)


@transaction.atomic
def customers_bulk_create(*, rows: list[NewCustomer], by: User) -> list[Customer]:
    """``customer_create`` for many customers in a handful of statements (imports).

    Same numbering, ownership, name forms, encryption, history and ``customer.created``
    events, without the per-row model validation the caller has already done: a database
    error rolls the whole batch back, and the caller can retry its rows one by one.
    """
    numbers = next_numbers(NUMBER_PREFIX, len(rows))
    now = timezone.now()
    is_rep = Role.SALES_REP in by.roles
    values = []
    for row, number in zip(rows, numbers, strict=True):
        fields = dict(row.fields)
        if "owner" not in fields:
            category = fields.get("category")
            if is_rep:
                fields["owner"] = by
            elif category is not None and category.default_owner_id:
                fields["owner_id"] = category.default_owner_id
        fields.update(_name_fields(fields["name"]), number=number, created_by=by, created_at=now)
        if fields.get("owner") is None and fields.get("owner_id") is None:
            fields["status"] = Customer.Status.TO_BE_ASSIGNED
        else:
            fields["assigned_at"] = now
        values.append(fields)
    history = bulk.History(user=by, date=now)
    customers = bulk.create_from_values(Customer, values, history=history)
    bulk.insert_values(
        Contact,
        [
            {
                **contact_fields,
                **_contact_phone_fields(contact_fields.get("phone")),
                "customer_id": customer.pk,
                "is_primary": position == 0,
            }
            for customer, row in zip(customers, rows, strict=True)
            for position, contact_fields in enumerate(row.contacts)
        ],
        history=history,
    )
    bulk.insert_values(
        CustomerTag,
        [
            {"customer_id": customer.pk, "tag_id": tag_id}
            for customer, row in zip(customers, rows, strict=True)
            for tag_id in dict.fromkeys(tag.pk for tag in row.tags)
        ],
    )
    events.emit_many(
        CUSTOMER_CREATED,
        customers,
        actor=by,
        data=[event_snapshot(customer) for customer in customers],
    )
    return customers


def key_field_changes(customer: Customer, changes: dict[str, Any]) -> dict[str, Any]:
    """The part of ``changes`` that touches a key field and really changes it."""
    result = {}
    for name in KEY_FIELDS:
        if name in changes:
            before = getattr(customer, name)
            after = changes[name]
            if isinstance(before, Decimal) and after is not None:
                after = Decimal(after)
            if before != after:
                result[name] = after
    return result


def needs_approval(user: User) -> bool:
    """Reps change key fields through a request; managers, heads and admins directly."""
    return not (
        user.is_superuser
        or user.roles & {Role.SALES_MANAGER, Role.ADMIN}
        or user.headed_teams.exists()
    )


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    by: User | None,
    changes: dict[str, Any],
    tags: list[DemandTag] | None = None,
    reason: str = "",
) -> tuple[Customer, ApprovalRequest | None]:
    """Applies ordinary changes at once; key-field changes by a rep become a change request
    (变更申请) to the team head, applied only when approved. Returns the request if one was made."""
    key_changes = key_field_changes(customer, changes)
    request = None
    # by=None is the system (an automation rule): it changes key fields directly.
    if key_changes and by is not None and needs_approval(by):
        request = customer_change_request(
            customer=customer, by=by, changes=key_changes, reason=reason
        )
        changes = {name: value for name, value in changes.items() if name not in key_changes}
    changed = _apply_changes(customer, changes, by=by)
    _set_tags(customer, tags)
    if changed:
        events.emit(CUSTOMER_CHANGED, customer, actor=by, data={"changed": sorted(changed)})
    return customer, request


def _apply_changes(
    customer: Customer, changes: dict[str, Any], *, by: User | None, reason: str = ""
) -> list[str]:
    changed = []
    for name, value in changes.items():
        if getattr(customer, name) != value:
            setattr(customer, name, value)
            changed.append(name)
    if not changed:
        return []
    if "name" in changed:
        _apply_name(customer)
    if "owner" in changed:
        customer.assigned_at = timezone.now() if customer.owner_id else None
        if customer.owner_id and customer.status == Customer.Status.TO_BE_ASSIGNED:
            customer.status = Customer.Status.FOLLOWING
            changed.append("status")
        customer.assignment_error = ""
    # simple-history takes the request's user; set it for services run by workers and approvals.
    customer._history_user = by  # type: ignore[attr-defined]
    customer._change_reason = reason or "; ".join(changed)  # type: ignore[attr-defined]
    customer.full_clean(exclude=["number"])
    customer.save()
    return changed


# --- key-field change requests and deletion


def _display(customer: Customer, name: str, value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def customer_change_request(
    *, customer: Customer, by: User, changes: dict[str, Any], reason: str = ""
) -> ApprovalRequest:
    payload_changes = []
    for name, value in changes.items():
        if name == PRIMARY_CONTACT:
            current = customer.contacts.filter(is_primary=True).first()
            label, before = _("primary contact"), str(current) if current else "—"
        else:
            label = str(Customer._meta.get_field(name).verbose_name)
            before = _display(customer, name, getattr(customer, name))
        payload_changes.append(
            {
                "field": name,
                "label": label,
                "before": before,
                "after": _display(customer, name, value),
                "value": value.pk if hasattr(value, "pk") else str(value),
            }
        )
    return approval_request_create(
        kind="customers.change",
        action=ApprovalRequest.Action.CHANGE,
        summary=_("Change %(fields)s of %(customer)s")
        % {"fields": "、".join(c["label"] for c in payload_changes), "customer": customer.name},
        requester=by,
        target=customer,
        payload={"changes": payload_changes},
        reason=reason,
    )


def apply_change_request(request: ApprovalRequest) -> None:
    """Applies an approved key-field change, all fields or none (runs inside the approval)."""
    customer = Customer.objects.select_for_update().get(pk=request.target_id)
    changes: dict[str, Any] = {}
    for change in request.payload.get("changes", []):
        name = change["field"]
        if name == PRIMARY_CONTACT:
            contact = customer.contacts.filter(pk=change["value"]).first()
            if contact is None:
                raise ValidationError(_("The contact no longer exists."))
            _make_primary(contact)
            contact.save(update_fields=["is_primary"])
            continue
        field_ = Customer._meta.get_field(name)
        raw = change["value"]
        if field_.is_relation:
            model = field_.related_model
            changes[name] = (
                model._default_manager.get(pk=raw) if raw not in (None, "None") else None
            )
        elif name == "annual_amount":
            changes[name] = Decimal(raw)
        else:
            changes[name] = raw
    approved = _("Approved by %(name)s") % {"name": request.decided_by or request.approver}
    changed = _apply_changes(customer, changes, by=request.requester, reason=str(approved))
    if changed:
        events.emit(
            CUSTOMER_CHANGED, customer, actor=request.requester, data={"changed": sorted(changed)}
        )
    if "owner" in changed and customer.owner is not None:
        notify(
            [customer.owner],
            "customer_assigned",
            customer,
            url=customer.get_absolute_url(),
            context={"customer": customer},
        )


def sales_manager_for(user: User) -> User | None:
    """The sales manager who approves a deletion: the nearest head with the manager role."""
    team = user.team
    seen: set[int] = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        head = team.head
        if (
            head is not None
            and head.pk != user.pk
            and head.is_active
            and (Role.SALES_MANAGER in head.roles)
        ):
            return head
        team = team.parent
    return (
        User.objects.filter(is_active=True, groups__name=Role.SALES_MANAGER)
        .exclude(pk=user.pk)
        .order_by("pk")
        .first()
    )


def customer_delete_request(*, customer: Customer, by: User, reason: str) -> ApprovalRequest:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the customer should be deleted.")})
    return approval_request_create(
        kind="customers.delete",
        action=ApprovalRequest.Action.DELETE,
        summary=_("Delete %(customer)s") % {"customer": f"{customer.name} ({customer.number})"},
        requester=by,
        target=customer,
        payload={"number": customer.number, "name": customer.name},
        reason=reason,
    )


def apply_delete_request(request: ApprovalRequest) -> None:
    customer = Customer.objects.filter(pk=request.target_id).first()
    if customer is not None:
        customer._change_reason = _("Deleted after approval")  # type: ignore[attr-defined]
        customer.delete()


# --- owners and sharing


@transaction.atomic
def customer_assign(
    *, customer: Customer, owner: User, by: User | None, reason: str = ""
) -> Customer:
    """Gives the customer an owner (manual reassignment or an automation rule), and tells them.
    The reason is kept in the customer's history."""
    changed = _apply_changes(customer, {"owner": owner}, by=by, reason=reason)
    if changed:
        events.emit(CUSTOMER_CHANGED, customer, actor=by, data={"changed": sorted(changed)})
        notify(
            [owner],
            "customer_assigned",
            customer,
            actor=by,
            url=customer.get_absolute_url(),
            context={"customer": customer, "reason": reason},
        )
    return customer


def can_reassign(customer: Customer, user: User) -> bool:
    """Managers, team heads above the owner and admins reassign directly (reps ask instead)."""
    return not needs_approval(user) and customer.is_in_owner_line(user)


@transaction.atomic
def customers_bulk_update(
    *,
    customers: list[Customer],
    by: User,
    owner: User | None = None,
    tag: DemandTag | None = None,
    level: Any = None,
) -> int:
    """The list's bulk actions for managers: reassign, add a tag, change the level."""
    if not (by.is_superuser or by.roles & {Role.SALES_MANAGER, Role.ADMIN}):
        raise PermissionDenied(_("Only managers can change customers in bulk."))
    for customer in customers:
        if owner is not None:
            customer_assign(customer=customer, owner=owner, by=by)
        if level is not None:
            customer_update(customer=customer, by=by, changes={"level": level})
        if tag is not None:
            CustomerTag.objects.get_or_create(customer=customer, tag=tag)
    return len(customers)


@transaction.atomic
def customer_tags_add(*, customer: Customer, tags: list[DemandTag], by: User | None = None) -> int:
    """Adds the tags the customer lacks; returns how many were new (0: nothing changed)."""
    current = set(customer.tags.values_list("pk", flat=True))
    new = [tag for tag in {tag.pk: tag for tag in tags}.values() if tag.pk not in current]
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=customer, tag=tag) for tag in new], ignore_conflicts=True
    )
    if new:
        events.emit(CUSTOMER_CHANGED, customer, actor=by, data={"changed": ["tags"]})
    return len(new)


@transaction.atomic
def customer_tags_remove(
    *, customer: Customer, tags: list[DemandTag], by: User | None = None
) -> int:
    """Removes those of the tags the customer has; returns how many were removed."""
    removed, _per_model = CustomerTag.objects.filter(
        customer=customer, tag_id__in=[tag.pk for tag in tags]
    ).delete()
    if removed:
        events.emit(CUSTOMER_CHANGED, customer, actor=by, data={"changed": ["tags"]})
    return removed


# --- contacts and reveals


@transaction.atomic
def contact_add(
    *, customer: Customer, by: User | None, primary: bool = False, **fields: Any
) -> Contact:
    contact = Contact(customer=customer, **fields)
    contact._history_user = by  # type: ignore[attr-defined]
    _apply_contact_phone(contact)
    if primary or not customer.contacts.filter(is_primary=True).exists():
        Contact.objects.filter(customer=customer, is_primary=True).update(is_primary=False)
        contact.is_primary = True
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def contact_create(
    *, customer: Customer, by: User, make_primary: bool = False, **fields: Any
) -> tuple[Contact, ApprovalRequest | None]:
    """Adds a contact from the contact form. Asking to make it the primary contact is a
    key-field change (see ``contact_update``); if that is refused, the contact is not added
    either, so the form can be sent again as it is."""
    contact = contact_add(customer=customer, by=by, **fields)
    if make_primary and not contact.is_primary:
        return contact_update(contact=contact, by=by, changes={"is_primary": True})
    return contact, None


@transaction.atomic
def contact_update(
    *, contact: Contact, by: User, changes: dict[str, Any], reason: str = ""
) -> tuple[Contact, ApprovalRequest | None]:
    """Saves a contact. Making it the primary contact is a key-field change: a rep's request
    goes to the team head, and the contact is saved without that part meanwhile."""
    request = None
    if changes.get("is_primary") and not contact.is_primary and needs_approval(by):
        request = customer_change_request(
            customer=contact.customer, by=by, changes={"primary_contact": contact}, reason=reason
        )
        changes = {name: value for name, value in changes.items() if name != "is_primary"}
    for name, value in changes.items():
        setattr(contact, name, value)
    contact._history_user = by  # type: ignore[attr-defined]
    if "phone" in changes:
        _apply_contact_phone(contact)
    if changes.get("is_primary"):
        _make_primary(contact)
    contact.full_clean()
    contact.save()
    return contact, request


def _make_primary(contact: Contact) -> None:
    Contact.objects.filter(customer=contact.customer_id, is_primary=True).exclude(
        pk=contact.pk
    ).update(is_primary=False)
    contact.is_primary = True


def reveal(*, customer: Customer, by: User, field: str, contact: Contact | None = None) -> str:
    """Unmasks one personal field for someone in the owner line, and logs it."""
    if not customer.is_in_owner_line(by):
        raise PermissionDenied(_("Only the owner, their manager or an admin can see this."))
    value = getattr(contact if contact is not None else customer, field)
    RevealLog.objects.create(user=by, customer=customer, contact=contact, field=field)
    return value or ""
