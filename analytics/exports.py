"""Exports (CSV / XLSX) of the dashboards' tables and of the drill-down lists.

Tables hold aggregates: the roles allowed to export get them at once. A list holding contact
data (names and phone numbers of customers' people) goes through an approval: the manager
decides, and an approved request becomes a single-use link for its requester. Every file is
logged with who, what, the filter, the row count and its SHA-256.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import datasets
from analytics.charts import Table
from analytics.datasets import Dataset
from analytics.models import ExportLog, ExportRequest
from analytics.scope import Scope
from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.approvals.models import ApprovalRequest, FileFormat
from crm.approvals.registry import ApprovalKind, register
from crm.approvals.services import approval_request_create, export_link_claim, export_link_grant
from customers.resources import csv_bytes, safe_cell, xlsx_bytes
from customers.transfer import ExportFile

MAX_ROWS = 100_000
EXPORTERS = frozenset({Role.SALES_MANAGER, Role.SERVICE_SUPERVISOR, Role.ANALYST, Role.ADMIN})


def can_export(user: User) -> bool:
    """Managers, supervisors, analysts and administrators export; reps and agents read."""
    return bool(user.is_authenticated and (user.is_superuser or user.roles & EXPORTERS))


def link_hours() -> int:
    return int(getattr(settings, "ANALYTICS_EXPORT_LINK_HOURS", 24))


def _file(name: str, headers: list[str], rows: list[list[Any]], file_format: str) -> ExportFile:
    cells = [[safe_cell(value) for value in row] for row in rows]
    if file_format == FileFormat.XLSX:
        content = xlsx_bytes(headers, cells)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = csv_bytes(headers, cells)
        content_type = "text/csv; charset=utf-8"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(
        content=content,
        filename=f"{name}-{stamp}.{file_format}",
        content_type=content_type,
        row_count=len(rows),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _log(
    user: User, what: str, scope_query: str, export_file: ExportFile, file_format: str, **extra: Any
) -> None:
    ExportLog.objects.create(
        user=user,
        what=what,
        query=scope_query[:2000],
        file_format=file_format,
        row_count=export_file.row_count,
        sha256=export_file.sha256,
        **extra,
    )


@transaction.atomic
def table_export(
    *, user: User, dashboard: str, chart: str, table: Table, scope: Scope, file_format: str
) -> ExportFile:
    """A dashboard table as a file, at once, logged."""
    if not can_export(user):
        raise ValidationError(_("Your role may not export."))
    export_file = _file(
        f"{dashboard}-{chart}", [str(h) for h in table.headers], table.plain_rows(), file_format
    )
    _log(user, f"{dashboard}.{chart}", scope.query(), export_file, file_format)
    return export_file


def _list_rows(
    dataset: Dataset, scope: Scope, params: QueryDict
) -> tuple[list[str], list[list[Any]]]:
    headers = [str(column.label) for column in dataset.columns]
    records = dataset.records(scope, params)[:MAX_ROWS]
    rows = [
        [column.value(record) for column in dataset.columns]
        for record in records.iterator(chunk_size=2000)
    ]
    return headers, rows


@transaction.atomic
def list_export(
    *, user: User, dataset: Dataset, scope: Scope, params: QueryDict, file_format: str
) -> ExportFile:
    """A drill-down list without contact data as a file, at once, logged."""
    if not can_export(user):
        raise ValidationError(_("Your role may not export."))
    if dataset.contact_data:
        raise ValidationError(_("This list holds contact data: its export needs approval."))
    headers, rows = _list_rows(dataset, scope, params)
    export_file = _file(dataset.key, headers, rows, file_format)
    _log(user, dataset.key, params.urlencode(), export_file, file_format)
    return export_file


@transaction.atomic
def export_request_create(
    *, user: User, dataset: Dataset, scope: Scope, params: QueryDict, file_format: str, reason: str
) -> ExportRequest:
    """Asks the requester's manager for an export of a list holding contact data."""
    if not can_export(user):
        raise ValidationError(_("Your role may not export."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the contact details are needed for.")})
    count = min(dataset.records(scope, params).count(), MAX_ROWS)
    query = params.urlencode()[:2000]
    export_request = ExportRequest.objects.create(
        user=user,
        dataset=dataset.key,
        query=query,
        file_format=file_format,
        row_count=count,
        reason=reason,
    )
    export_request.approval = approval_request_create(
        kind="analytics.export",
        action=ApprovalRequest.Action.EXPORT,
        summary=_("Export %(count)d rows of “%(list)s” with contact data")
        % {"count": count, "list": dataset.title},
        requester=user,
        target=export_request,
        payload={"list": dataset.key, "query": query, "format": file_format, "rows": count},
        reason=reason,
    )
    export_request.save(update_fields=["approval"])
    return export_request


def apply_export_request(request: ApprovalRequest) -> None:
    if request.target_id is None:
        raise ValidationError(_("This request has no export attached."))
    export_request = ExportRequest.objects.select_for_update().get(pk=request.target_id)
    export_link_grant(export_request, hours=link_hours(), notification="analytics_export_ready")


@transaction.atomic
def export_request_download(
    *, export_request: ExportRequest, by: User, scope_for: Any
) -> ExportFile:
    """The approved file, once, for its requester: the list as it stands now, within what the
    requester sees now (``scope_for(params)`` rebuilds their scope)."""
    export_link_claim(export_request, by=by)
    params = QueryDict(export_request.query)
    dataset = datasets.get(export_request.dataset)
    headers, rows = _list_rows(dataset, scope_for(params), params)
    export_file = _file(dataset.key, headers, rows, export_request.file_format)
    _log(
        by,
        dataset.key,
        export_request.query,
        export_file,
        export_request.file_format,
        contact_data=True,
        export_request=export_request,
    )
    return export_file


register(
    ApprovalKind(
        code="analytics.export",
        label=gettext_lazy("Analytics list export with contact data"),
        apply=apply_export_request,
    )
)
