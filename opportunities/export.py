"""Opportunity export (CSV / XLSX). Opportunities carry no contact data, so under the export
rules (SPEC §6) the roles allowed to export get the file at once, without approval; each export
is logged with its filter and row count."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from customers.resources import csv_bytes, safe_cell, xlsx_bytes
from opportunities.filters import OpportunityFilter
from opportunities.models import ExportLog, Opportunity


def can_export(user: User) -> bool:
    return bool(
        user.is_superuser
        or user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN, Role.ANALYST}
    )


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    row_count: int


def headers() -> list[str]:
    return [
        _("Name"),
        _("Customer number"),
        _("Customer"),
        _("Stage"),
        _("Win probability (%)"),
        _("Expected amount (¥)"),
        _("Weighted amount (¥)"),
        _("Expected close date"),
        _("Owner"),
        _("Source channel"),
        _("Next step"),
        _("Lost reason"),
        _("Created"),
    ]


def row(opportunity: Opportunity) -> list[object]:
    values = [
        opportunity.name,
        opportunity.customer.number,
        opportunity.customer.name,
        str(opportunity.stage),
        opportunity.stage.probability,
        opportunity.amount,
        opportunity.weighted_amount,
        opportunity.expected_close_date.isoformat(),
        opportunity.owner.display_name,
        str(opportunity.source or ""),
        opportunity.next_step,
        str(opportunity.lost_reason or ""),
        timezone.localtime(opportunity.created_at).strftime("%Y-%m-%d %H:%M"),
    ]
    return [safe_cell(value) for value in values]


@transaction.atomic
def opportunities_export(*, user: User, params: QueryDict, file_format: str) -> ExportFile:
    """The list as filtered by ``params`` within what ``user`` sees, logged."""
    queryset = OpportunityFilter(
        params, queryset=Opportunity.objects.visible_to(user), user=user
    ).qs.select_related("customer", "owner", "stage", "source", "lost_reason")
    rows = [row(opportunity) for opportunity in queryset.iterator(chunk_size=1000)]
    if file_format == "xlsx":
        content = xlsx_bytes(headers(), rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        file_format = "csv"
        content = csv_bytes(headers(), rows)
        content_type = "text/csv; charset=utf-8"
    ExportLog.objects.create(
        user=user, query=params.urlencode()[:2000], file_format=file_format, row_count=len(rows)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(content, f"opportunities-{stamp}.{file_format}", content_type, len(rows))
