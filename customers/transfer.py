"""Customer import (CSV / XLSX: previewed, then saved row by row through the archive's services)
and export (masked at once; with full phones and addresses only after a manager's approval).

Every row of an import goes through ``customer_create`` / ``customer_update`` / ``contact_add``,
so numbering, name normalisation, pinyin, encryption and events are the same as on the form.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import User
from crm.accounts.roles import Level, Role
from crm.approvals.models import ApprovalRequest
from crm.approvals.registry import ApprovalKind, register
from crm.approvals.services import approval_request_create, export_link_claim, export_link_grant
from crm.core.attachments import clean_file_name, sniff_mime_type
from crm.core.phones import mask_phone, phone_index
from crm.core.tasks import enqueue
from customers.filters import CustomerFilter
from customers.models import (
    Contact,
    Customer,
    CustomerQuerySet,
    CustomField,
    ExportLog,
    ExportRequest,
    FileFormat,
    ImportJob,
)
from customers.names import normalize_name
from customers.resources import (
    ColumnMap,
    Lookups,
    RowAction,
    RowPlan,
    Table,
    clean_row,
    csv_bytes,
    export_headers,
    export_row,
    xlsx_bytes,
)
from customers.services import (
    NewCustomer,
    contact_add,
    customer_create,
    customer_update,
    customers_bulk_create,
)

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 50
PROGRESS_EVERY = 1000  # rows per transaction; the job's progress is saved with each batch
XLSX_TYPES = {
    "application/zip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# --- settings, read when used ---------------------------------------------------------------------


def import_sync_max_rows() -> int:
    """Files with more rows than this run on a worker, with progress shown on the job page."""
    return int(getattr(settings, "CUSTOMER_IMPORT_SYNC_MAX_ROWS", 10_000))


def import_request_seconds() -> float:
    """How long a request may work on an import before a worker takes over the rest."""
    return float(getattr(settings, "CUSTOMER_IMPORT_REQUEST_SECONDS", 20))


def import_max_rows() -> int:
    return int(getattr(settings, "CUSTOMER_IMPORT_MAX_ROWS", 100_000))


def import_max_bytes() -> int:
    return int(getattr(settings, "CUSTOMER_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def export_link_hours() -> int:
    return int(getattr(settings, "CUSTOMER_EXPORT_LINK_HOURS", 24))


# --- who may do what ------------------------------------------------------------------------------


def can_import(user: User) -> bool:
    """Imports are for sales managers and administrators."""
    return bool(user.is_superuser or user.roles & {Role.SALES_MANAGER, Role.ADMIN})


def can_export(user: User) -> bool:
    """Everyone who works with customers may export what they see (masked)."""
    return bool(
        user.is_superuser
        or user.roles & {Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN, Role.ANALYST}
    )


def assignable_owners(user: User) -> models.QuerySet[User]:
    """Owners an importer may give customers to: themselves and the people whose records they
    see, so an import never hands a customer to someone outside the importer's reach."""
    users = User.objects.filter(is_active=True)
    visibility = user.visibility
    if visibility.level == Level.ALL:
        return users
    return users.filter(Q(pk=user.pk) | Q(team_id__in=visibility.team_ids))


# --- reading files --------------------------------------------------------------------------------


def import_file_format(upload: UploadedFile) -> str:
    """CSV or XLSX, told by the bytes (never the name), within the size limit."""
    limit = import_max_bytes()
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(limit)s.") % {"limit": filesizeformat(limit)},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    mime = sniff_mime_type(head)
    if mime == "text/plain":
        return FileFormat.CSV
    if mime in XLSX_TYPES:
        return FileFormat.XLSX
    raise ValidationError(
        _("Upload a CSV file or an Excel workbook (.xlsx). Older .xls files: save them as .xlsx."),
        code="bad_type",
    )


# --- duplicates in bulk ---------------------------------------------------------------------------


def _row_keys(plan: RowPlan) -> list[tuple[str, str]]:
    keys = []
    if plan.name and (normalized := normalize_name(plan.name)):
        keys.append(("name", normalized))
    if plan.contact:
        if plan.contact["phone"]:
            keys.append(("phone", phone_index(plan.contact["phone"])))
        if plan.contact["email"]:
            keys.append(("email", plan.contact["email"].strip().lower()))
    return keys


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _one_of(values: list[str]) -> Any:
    """The right side of an ``__in`` lookup for many thousand values. On Postgres the values
    travel as one array unnested in a subquery: a list of literals would be planned value by
    value (a 100k-row file's names took seconds to plan), and chunks of them probed the index
    once per value. Elsewhere (SQLite) the values themselves, in chunks under its limit."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", [values])
    return values


def _value_chunks(values: set[str]) -> Iterator[Any]:
    size = 50_000 if connection.vendor == "postgresql" else 500
    for chunk in _chunks(sorted(values), size):
        yield _one_of(chunk)


class DuplicateIndex:
    """The duplicate check of ``customers.services.find_duplicates`` (same normalised name,
    contact phone or contact email, among all records) done for a whole file in a few set
    queries, then split into the customers the importer sees and those of other teams.

    ``keys_by_row`` are the rows' keys as ``_keys_of_file`` read them, so that a row's name is
    normalised and its phone hashed once, not at every lookup."""

    def __init__(
        self,
        user: User,
        keys: Iterable[tuple[str, str]],
        keys_by_row: dict[int, list[tuple[str, str]]] | None = None,
    ) -> None:
        self.user = user
        self.keys_by_row = keys_by_row or {}
        self.matches: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.rows: dict[tuple[str, str], int] = {}  # key → earlier row of this file
        wanted: dict[str, set[str]] = defaultdict(set)
        for kind, value in keys:
            wanted[kind].add(value)
        for chunk in _value_chunks(wanted["name"]):
            for pk, value in Customer.objects.filter(name_normalized__in=chunk).values_list(
                "pk", "name_normalized"
            ):
                self.matches["name", value].add(pk)
        for chunk in _value_chunks(wanted["phone"]):
            for pk, value in Contact.objects.filter(phone_index__in=chunk).values_list(
                "customer_id", "phone_index"
            ):
                self.matches["phone", value].add(pk)
        for chunk in _value_chunks(wanted["email"]):
            contacts = Contact.objects.annotate(lowered=Lower("email")).filter(lowered__in=chunk)
            for pk, value in contacts.values_list("customer_id", "lowered"):
                self.matches["email", value].add(pk)
        found = sorted({pk for pks in self.matches.values() for pk in pks})
        self.visible: dict[int, Customer] = {}
        for chunk in _chunks(found, 1000):
            for customer in (
                Customer.objects.visible_to(user)
                .filter(pk__in=chunk)
                .only("pk", "number", "name", "owner_id")
            ):
                self.visible[customer.pk] = customer

    def keys(self, plan: RowPlan) -> list[tuple[str, str]]:
        keys = self.keys_by_row.get(plan.row)
        if keys is None:
            keys = self.keys_by_row[plan.row] = _row_keys(plan)
        return keys

    def lookup(self, plan: RowPlan) -> tuple[list[Customer], int, int | None]:
        """(visible matches, how many are another team's, an earlier row of the file)."""
        keys = self.keys(plan)
        found = set().union(*(self.matches.get(key, set()) for key in keys)) if keys else set()
        visible = [self.visible[pk] for pk in sorted(found) if pk in self.visible]
        earlier = min((self.rows[key] for key in keys if key in self.rows), default=None)
        return visible, len(found) - len(visible), earlier

    def remember(self, plan: RowPlan, customer: Customer | None) -> None:
        """Counts a row's keys as taken: by the customer it saved, or (in a preview) by the row."""
        for key in self.keys(plan):
            if customer is not None:
                self.matches[key].add(customer.pk)
                self.visible[customer.pk] = customer
            else:
                self.rows.setdefault(key, plan.row)


def decide(plan: RowPlan, index: DuplicateIndex, on_duplicate: str) -> None:
    """Create, update, skip or refuse: the duplicate rules of the import."""
    if plan.action == RowAction.ERROR:
        plan.errors.extend(plan.missing_required)  # everything to fix, in one go
        return
    visible, hidden, earlier = index.lookup(plan)
    if hidden:
        # An import may not copy another team's customer, nor say which one it is.
        plan.action = RowAction.SKIP
        plan.message = _("Duplicate of a customer owned by another team: skipped.")
        return
    if not visible and earlier is None:
        plan.action = RowAction.CREATE
    elif on_duplicate == ImportJob.OnDuplicate.CREATE:
        plan.action = RowAction.CREATE
        plan.message = _("Possible duplicate: created anyway, as chosen.")
    elif len(visible) > 1:
        plan.action = RowAction.ERROR
        plan.errors.append(
            (
                "",
                _("Matches several customers (%(numbers)s): update them by hand.")
                % {"numbers": "、".join(c.number for c in visible)},
            )
        )
    elif on_duplicate == ImportJob.OnDuplicate.UPDATE:
        plan.action = RowAction.UPDATE
        plan.duplicate = visible[0] if visible else None
        plan.duplicate_row = None if visible else earlier
    else:
        plan.action = RowAction.SKIP
        plan.duplicate = visible[0] if visible else None
        plan.duplicate_row = None if visible else earlier
        plan.message = (
            _("Duplicate of %(number)s %(name)s: skipped.")
            % {"number": visible[0].number, "name": visible[0].name}
            if visible
            else _("Duplicate of row %(row)d: skipped.") % {"row": earlier}
        )
    if plan.action == RowAction.CREATE and plan.missing_required:
        plan.action = RowAction.ERROR
        plan.errors.extend(plan.missing_required)


# --- preview and run ------------------------------------------------------------------------------


def _job_table(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        return Table(handle.read(), job.file_format)


def _keys_of_file(table: Table, columns: ColumnMap) -> dict[int, list[tuple[str, str]]]:
    """The duplicate keys of every row, by row number, read in one pass; refuses a file over
    the row limit. A row's keys are those of its plan: a name longer than the column makes the
    row an error, which looks nothing up."""
    keys: dict[int, list[tuple[str, str]]] = {}
    limit = import_max_rows()
    for count, (row, cells) in enumerate(table.rows(), start=1):
        if count > limit:
            raise ValidationError(
                _("The file has more than %(limit)d rows: split it into smaller files.")
                % {"limit": limit},
                code="too_many_rows",
            )
        raw = columns.values(cells)
        plan = RowPlan(row=row, name=raw.get("name", ""))
        if raw.get("phone") or raw.get("email"):
            plan.contact = {"phone": raw.get("phone", ""), "email": raw.get("email", "")}
        keys[row] = _row_keys(plan)
    return keys


def _duplicate_index(user: User, table: Table, columns: ColumnMap) -> DuplicateIndex:
    by_row = _keys_of_file(table, columns)
    return DuplicateIndex(user, chain.from_iterable(by_row.values()), keys_by_row=by_row)


def import_job_create(
    *,
    user: User,
    upload: UploadedFile,
    on_duplicate: str = ImportJob.OnDuplicate.SKIP,
    default_owner: User | None = None,
) -> ImportJob:
    """Checks an uploaded file and previews it: what each row would become, the totals and
    every row problem. Only the job (with the file) is saved; no customer is."""
    if not can_import(user):
        raise ValidationError(_("Only sales managers and administrators can import customers."))
    if default_owner is not None and not assignable_owners(user).filter(pk=default_owner.pk):
        raise ValidationError(_("You cannot assign customers to this user."))
    file_format = import_file_format(upload)
    data = upload.read()
    table = Table(data, file_format)
    lookups = Lookups(assignable_owners(user))
    columns = ColumnMap.build(table.headers, lookups.custom_fields)
    index = _duplicate_index(user, table, columns)
    totals = dict.fromkeys(RowAction.values, 0)
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for number, cells in table.rows():
        plan = clean_row(number, columns.values(cells), columns, lookups)
        decide(plan, index, on_duplicate)
        if plan.action == RowAction.CREATE:
            index.remember(plan, None)
        totals[plan.action] += 1
        problems.extend(plan.problems())
        if len(rows) < PREVIEW_ROWS:
            rows.append(_preview_row(plan))
    if not rows:
        raise ValidationError(_("The file has no data rows below its headers."), code="no_rows")
    job = ImportJob(
        user=user,
        original_name=clean_file_name(upload.name or "import"),
        file_format=file_format,
        on_duplicate=on_duplicate,
        default_owner=default_owner,
        status=ImportJob.Status.PREVIEWED,
        total_rows=sum(totals.values()),
        preview={"rows": rows, "totals": totals, "ignored": columns.ignored},
        errors=problems,
    )
    job.file.save(job.original_name, ContentFile(data), save=False)
    job.save()
    return job


def _preview_row(plan: RowPlan) -> dict[str, Any]:
    duplicate = None
    if plan.duplicate is not None:
        duplicate = {
            "number": plan.duplicate.number,
            "name": plan.duplicate.name,
            "url": plan.duplicate.get_absolute_url(),
        }
    contact = plan.contact or {}
    return {
        "row": plan.row,
        "name": plan.name,
        "contact": contact.get("name", ""),
        "phone": mask_phone(contact.get("phone", "")),
        "action": plan.action,
        "messages": [m for _f, m in plan.errors] or ([plan.message] if plan.message else []),
        "duplicate": duplicate,
        "duplicate_row": plan.duplicate_row,
    }


def import_job_start(*, job: ImportJob, by: User) -> ImportJob:
    """Confirms a previewed job: small files run now, large ones on a worker."""
    if by.pk != job.user_id or not can_import(by):
        raise ValidationError(_("Only the person who uploaded the file can run this import."))
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.RUNNING,
        started_at=now,
        progressed_at=now,
        processed_rows=0,
        created_count=0,
        updated_count=0,
        skipped_count=0,
        failed_count=0,
        errors=[],
    )
    if not claimed:  # a double click, or a second tab
        raise ValidationError(_("This import has already been started."))
    if job.total_rows > import_sync_max_rows():
        _hand_to_worker(job)
        job.refresh_from_db()
        return job
    return import_job_run(job_id=job.pk, seconds=import_request_seconds())


def _hand_to_worker(job: ImportJob) -> None:
    from customers.tasks_transfer import import_run

    transaction.on_commit(partial(enqueue, import_run, job.pk))


def import_job_run(*, job_id: int, seconds: float | None = None) -> ImportJob:
    """Saves the rows of a running job, a batch per transaction with a savepoint per row.

    Progress (rows done, counts, problems) commits with each batch, so a worker that dies
    resumes after the last committed batch and never saves a row twice. Batches keep the day's
    numbering row locked for a moment only, not for the whole file. Given ``seconds`` (a web
    request), it stops after the batch that overruns them and leaves the rest to a worker, so a
    slow database turns into a progress bar rather than a gateway timeout.
    """
    job = ImportJob.objects.select_related("user", "default_owner").get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return job  # finished, or never confirmed: running twice does nothing twice
    deadline = time.monotonic() + seconds if seconds is not None else None
    try:
        table = _job_table(job)
        lookups = Lookups(assignable_owners(job.user))
        columns = ColumnMap.build(table.headers, lookups.custom_fields)
        index = _duplicate_index(job.user, table, columns)
        batch: list[tuple[int, list[str]]] = []
        for item in table.rows(start=job.processed_rows):
            batch.append(item)
            if len(batch) == PROGRESS_EVERY:
                _run_batch(job, batch, columns, lookups, index)
                batch = []
                if deadline is not None and time.monotonic() > deadline:
                    _hand_to_worker(job)
                    return job
        if batch:
            _run_batch(job, batch, columns, lookups, index)
    except SupersededError:
        job.refresh_from_db()
        return job
    except ValidationError as error:
        _finish(job, ImportJob.Status.FAILED, " ".join(error.messages))
    except Exception:
        # Rows saved so far stay saved; the job page says where it stopped.
        logger.exception("Customer import %s failed", job.pk)
        job.refresh_from_db()
        _finish(job, ImportJob.Status.FAILED, _("The import stopped on an unexpected error."))
    else:
        _finish(job, ImportJob.Status.DONE, "")
    return job


def import_jobs_resume_stalled(
    *, now: datetime.datetime, stalled_after: datetime.timedelta = datetime.timedelta(minutes=10)
) -> int:
    """The sweep for running imports that stopped moving: a task that never reached the
    broker, or a worker that died. Each is claimed by moving its stamp, so two sweeps send it
    once; should the old runner be alive after all, the batch lock makes one of them stop."""
    from customers.tasks_transfer import import_run

    stalled = ImportJob.objects.filter(
        status=ImportJob.Status.RUNNING, progressed_at__lt=now - stalled_after
    ).values_list("pk", "progressed_at")
    sent = 0
    for pk, stamp in list(stalled[:100]):
        if ImportJob.objects.filter(pk=pk, progressed_at=stamp).update(progressed_at=now):
            enqueue(import_run, pk)
            sent += 1
    return sent


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status = status
    job.message = message[:500]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


class SupersededError(Exception):
    """Another runner (a redelivered task) has moved the job on: this one stops."""


COUNTERS = {
    RowAction.CREATE: "created_count",
    RowAction.UPDATE: "updated_count",
    RowAction.SKIP: "skipped_count",
    RowAction.ERROR: "failed_count",
}


@transaction.atomic
def _run_batch(
    job: ImportJob,
    batch: list[tuple[int, list[str]]],
    columns: ColumnMap,
    lookups: Lookups,
    index: DuplicateIndex,
) -> None:
    # The job row is the batch's lock: two runners of one job (a task redelivered while the
    # first still works) take turns, and the one that finds the job moved on stops.
    current = ImportJob.objects.select_for_update().filter(
        pk=job.pk, status=ImportJob.Status.RUNNING, processed_rows=job.processed_rows
    )
    if not list(current.values_list("pk", flat=True)):
        raise SupersededError
    # New customers are saved together (a few statements for the batch); updates one by one.
    pending: list[RowPlan] = []
    for number, cells in batch:
        plan = clean_row(number, columns.values(cells), columns, lookups)
        earlier = index.lookup(plan)[2]
        if pending and earlier is not None and earlier in {p.row for p in pending}:
            # This row repeats a row not yet saved: save those first so it can find it.
            _create_rows(job, pending, columns, lookups, index)
        decide(plan, index, job.on_duplicate)
        if plan.action == RowAction.CREATE:
            pending.append(plan)
            index.remember(plan, None)
            continue
        if plan.action == RowAction.UPDATE:
            _save_one(job, plan, columns, lookups, index)
        _count(job, plan)
    _create_rows(job, pending, columns, lookups, index)
    job.processed_rows += len(batch)
    job.progressed_at = timezone.now()
    job.save(
        update_fields=[
            "processed_rows",
            "progressed_at",
            "created_count",
            "updated_count",
            "skipped_count",
            "failed_count",
            "errors",
        ]
    )


def _count(job: ImportJob, plan: RowPlan) -> None:
    field_name = COUNTERS[RowAction(plan.action)]
    setattr(job, field_name, getattr(job, field_name) + 1)
    job.errors.extend(plan.problems())


def _create_rows(
    job: ImportJob,
    pending: list[RowPlan],
    columns: ColumnMap,
    lookups: Lookups,
    index: DuplicateIndex,
) -> None:
    """Saves the batch's new customers in bulk; should the database refuse the batch, row by
    row, so that only the faulty rows fail."""
    if not pending:
        return
    rows = [_new_customer(job, plan, lookups) for plan in pending]
    try:
        with transaction.atomic():
            customers = customers_bulk_create(rows=rows, by=job.user)
    except (ValidationError, DatabaseError):
        logger.info("Customer import %s: batch refused, saving its rows one by one", job.pk)
        for plan in pending:
            _save_one(job, plan, columns, lookups, index)
            _count(job, plan)
    else:
        for plan, customer in zip(pending, customers, strict=True):
            index.remember(plan, customer)
            _count(job, plan)
    pending.clear()


def _new_customer(job: ImportJob, plan: RowPlan, lookups: Lookups) -> NewCustomer:
    fields = {"name": plan.name, **plan.fields, "custom_data": plan.custom_data}
    fields.setdefault("category", lookups.default_category)
    if "owner" not in fields and job.default_owner is not None:
        fields["owner"] = job.default_owner
    return NewCustomer(
        fields=fields, contacts=[plan.contact] if plan.contact else [], tags=plan.tags
    )


def _save_one(
    job: ImportJob, plan: RowPlan, columns: ColumnMap, lookups: Lookups, index: DuplicateIndex
) -> None:
    try:
        customer = _save_row(job, plan, lookups)
    except ValidationError as error:
        plan.action = RowAction.ERROR
        plan.errors = _error_pairs(error, columns)
    except Exception:  # one bad row must not stop the others; its savepoint is gone
        logger.exception("Customer import %s: row %s failed", job.pk, plan.row)
        plan.action = RowAction.ERROR
        plan.errors = [("", _("This row could not be saved."))]
    else:
        index.remember(plan, customer)


def _error_pairs(error: ValidationError, columns: ColumnMap) -> list[tuple[str, str]]:
    if not hasattr(error, "error_dict"):
        return [("", message) for message in error.messages]
    pairs: list[tuple[str, str]] = []
    for name, messages in error.message_dict.items():
        header = columns.header(name) if name != "__all__" else ""
        pairs.extend((header, message) for message in messages)
    return pairs


def _save_row(job: ImportJob, plan: RowPlan, lookups: Lookups) -> Customer:
    """One row in one savepoint: customer_create is atomic itself; an update opens its own."""
    if plan.action == RowAction.CREATE:
        fields = {"name": plan.name, **plan.fields}
        fields.setdefault("category", lookups.default_category)
        if "owner" not in fields and job.default_owner is not None:
            fields["owner"] = job.default_owner
        return customer_create(
            by=job.user,
            contacts=[plan.contact] if plan.contact else [],
            tags=plan.tags,
            custom_data=plan.custom_data,
            **fields,
        )
    with transaction.atomic():
        return _update_row(job, plan)


def _update_row(job: ImportJob, plan: RowPlan) -> Customer:
    if plan.duplicate is None:
        raise ValidationError(_("The customer to update was not saved."))
    customer = Customer.objects.select_for_update().get(pk=plan.duplicate.pk)
    # The name stays: a match by phone or email may well be spelled differently on file.
    changes = dict(plan.fields)
    if plan.custom_data:
        changes["custom_data"] = {**customer.custom_data, **plan.custom_data}
    tags = None
    if plan.tags:
        tags = list({*customer.tags.all(), *plan.tags})
    customer, _request = customer_update(customer=customer, by=job.user, changes=changes, tags=tags)
    if plan.contact and not _has_contact(customer, plan.contact):
        contact_add(
            customer=customer,
            by=job.user,
            name=plan.contact["name"],
            phone=plan.contact["phone"],
            email=plan.contact["email"],
        )
    return customer


def _has_contact(customer: Customer, contact: dict[str, str]) -> bool:
    condition = Q()
    if contact["phone"]:
        condition |= Q(phone_index=phone_index(contact["phone"]))
    if contact["email"]:
        condition |= Q(email__iexact=contact["email"])
    if not condition:
        condition = Q(name=contact["name"])
    return customer.contacts.filter(condition).exists()


# --- export ---------------------------------------------------------------------------------------


def export_queryset(user: User, params: QueryDict) -> CustomerQuerySet:
    """The customers of the list as filtered by ``params``, within what ``user`` may see."""
    queryset = Customer.objects.visible_to(user)
    # The same filter as the list's, so that the file holds exactly what the user sees there.
    return cast(CustomerQuerySet, CustomerFilter(params, queryset=queryset, user=user).qs)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    row_count: int
    sha256: str


def export_build(
    *, user: User, params: QueryDict, file_format: str, masked: bool = True
) -> ExportFile:
    """The file of the filtered list; phones and addresses masked unless ``masked`` is off."""
    custom_fields = list(CustomField.objects.filter(is_active=True))
    headers = export_headers(custom_fields)
    customers = (
        export_queryset(user, params)
        .select_related("category", "industry", "source", "region", "province", "owner")
        .with_primary_contact()
        .prefetch_related("tags")
    )
    rows = (
        export_row(customer, custom_fields, masked=masked)
        for customer in customers.iterator(chunk_size=1000)
    )
    count = 0

    def counted(values: Iterable[list[Any]]) -> Iterator[list[Any]]:
        nonlocal count
        for value in values:
            count += 1
            yield value

    if file_format == FileFormat.XLSX:
        content = xlsx_bytes(headers, counted(rows))
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = csv_bytes(headers, counted(rows))
        content_type = "text/csv; charset=utf-8"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(
        content=content,
        filename=f"customers-{stamp}.{file_format}",
        content_type=content_type,
        row_count=count,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _log(
    user: User,
    params: QueryDict,
    export_file: ExportFile,
    file_format: str,
    *,
    masked: bool,
    export_request: ExportRequest | None = None,
) -> ExportLog:
    return ExportLog.objects.create(
        user=user,
        query=params.urlencode()[:2000],
        row_count=export_file.row_count,
        file_format=file_format,
        masked=masked,
        sha256=export_file.sha256,
        export_request=export_request,
    )


def customers_export(*, user: User, params: QueryDict, file_format: str) -> ExportFile:
    """A masked export, at once, logged."""
    if not can_export(user):
        raise ValidationError(_("You cannot export customers."))
    export_file = export_build(user=user, params=params, file_format=file_format, masked=True)
    _log(user, params, export_file, file_format, masked=True)
    return export_file


@transaction.atomic
def export_request_create(
    *, user: User, params: QueryDict, file_format: str, reason: str
) -> ExportRequest:
    """Asks the team head for an export with full phone numbers and addresses."""
    if not can_export(user):
        raise ValidationError(_("You cannot export customers."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say what the full contact details are needed for.")})
    query = params.urlencode()[:2000]
    count = export_queryset(user, params).count()
    export_request = ExportRequest.objects.create(
        user=user, query=query, file_format=file_format, row_count=count, reason=reason
    )
    export_request.approval = approval_request_create(
        kind="customers.export",
        action=ApprovalRequest.Action.EXPORT,
        summary=_("Export %(count)d customers with full phone numbers and addresses")
        % {"count": count},
        requester=user,
        target=export_request,
        payload={"query": query, "format": file_format, "rows": count},
        reason=reason,
    )
    export_request.save(update_fields=["approval"])
    return export_request


def apply_export_request(request: ApprovalRequest) -> None:
    """On approval: a single-use download link for the requester, valid for a few hours."""
    if request.target_id is None:
        raise ValidationError(_("This request has no export attached."))
    export_request = ExportRequest.objects.select_for_update().get(pk=request.target_id)
    export_link_grant(
        export_request, hours=export_link_hours(), notification="customer_export_ready"
    )


@transaction.atomic
def export_request_download(*, export_request: ExportRequest, by: User) -> ExportFile:
    """The unmasked file, once: the link is claimed before the file is built and logged."""
    export_link_claim(export_request, by=by)
    params = QueryDict(export_request.query)
    export_file = export_build(
        user=by, params=params, file_format=export_request.file_format, masked=False
    )
    _log(
        by,
        params,
        export_file,
        export_request.file_format,
        masked=False,
        export_request=export_request,
    )
    return export_file


register(
    ApprovalKind(
        code="customers.export",
        label=gettext_lazy("Customer export with contact details"),
        apply=apply_export_request,
    )
)
