"""The readable timeline of a customer's history (simple-history rows of it and its contacts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer

# Personal data is never shown in the timeline, only that it changed.
HIDDEN_VALUES = {"address", "phone"}
SKIPPED = {"updated_at", "name_normalized", "name_pinyin", "name_initials", "tiers_computed_at"}
KIND_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


@dataclass
class Change:
    label: str
    before: Any
    after: Any
    hidden: bool = False
    related_model: Any = None


@dataclass
class Entry:
    when: Any
    who: Any
    what: str
    subject: str
    reason: str = ""
    changes: list[Change] = field(default_factory=list)


def _entries(records: list[Any], model: type, subject_of: Any) -> list[Entry]:
    entries = []
    previous_by_id: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        previous = previous_by_id.get(record.id)
        entry = Entry(
            when=record.history_date,
            who=record.history_user,
            what=str(KIND_LABELS.get(record.history_type, record.history_type)),
            subject=subject_of(record),
            reason=record.history_change_reason or "",
        )
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            for change in delta.changes:
                if change.field in SKIPPED:
                    continue
                model_field = model._meta.get_field(change.field)
                before, after = change.old, change.new
                if model_field.choices:
                    labels = dict(model_field.flatchoices)
                    before, after = labels.get(before, before), labels.get(after, after)
                entry.changes.append(
                    Change(
                        label=str(model_field.verbose_name),
                        before=before,
                        after=after,
                        hidden=change.field in HIDDEN_VALUES,
                        related_model=model_field.related_model
                        if model_field.is_relation
                        else None,
                    )
                )
            if not entry.changes and not entry.reason:
                previous_by_id[record.id] = record
                continue
        entries.append(entry)
        previous_by_id[record.id] = record
    return entries


def timeline(customer: Customer, *, limit: int = 50) -> list[Entry]:
    """Newest first; two queries whatever the history's length (it is capped at ``limit``)."""
    customer_records = list(
        customer.history.select_related("history_user").order_by("-history_date")[:limit]
    )
    contact_records = list(
        Contact.history.filter(customer_id=customer.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    entries = _entries(customer_records, Customer, lambda r: str(_("Customer profile")))
    entries += _entries(
        contact_records, Contact, lambda r: str(_("Contact %(name)s") % {"name": r.name})
    )
    entries.sort(key=lambda entry: entry.when, reverse=True)
    entries = entries[:limit]
    _name_related_values(entries)
    return entries


def _name_related_values(entries: list[Entry]) -> None:
    """Replaces foreign-key ids with the records' names: one query per related model."""
    wanted: dict[Any, set[Any]] = {}
    for entry in entries:
        for change in entry.changes:
            if change.related_model is not None:
                ids = wanted.setdefault(change.related_model, set())
                ids.update(value for value in (change.before, change.after) if value is not None)
    names = {
        model: {pk: str(obj) for pk, obj in model._default_manager.in_bulk(list(ids)).items()}
        for model, ids in wanted.items()
        if ids
    }
    for entry in entries:
        for change in entry.changes:
            if change.related_model is not None:
                known = names.get(change.related_model, {})
                change.before = known.get(change.before, change.before)
                change.after = known.get(change.after, change.after)
