"""Import and export screens: upload, preview and run an import, the import log, export."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRefresh

from crm.accounts.models import User
from customers import resources, transfer
from customers.models import ExportRequest, FileFormat, ImportJob

ERRORS_PER_PAGE = 50


# --- forms (the screens' own; the archive's forms live in customers/forms.py) ---------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A CSV file (UTF-8 or GBK) or an Excel workbook (.xlsx)."),
    )
    on_duplicate = forms.ChoiceField(
        label=gettext_lazy("When a customer already exists"),
        choices=ImportJob.OnDuplicate.choices,
        initial=ImportJob.OnDuplicate.SKIP,
        widget=forms.RadioSelect,
    )
    default_owner = forms.ModelChoiceField(
        label=gettext_lazy("Default owner"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("For rows without an owner column value."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = cast(forms.ModelChoiceField, self.fields["default_owner"])
        owners.queryset = transfer.assignable_owners(user).order_by("username")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        transfer.import_file_format(upload)
        return upload


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=FileFormat.choices,
        initial=FileFormat.XLSX,
        widget=forms.RadioSelect,
    )
    unmasked = forms.BooleanField(
        label=gettext_lazy("Include full phone numbers and addresses (needs approval)"),
        required=False,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("unmasked") and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Say what the full contact details are needed for."))
        return cleaned


# --- import -----------------------------------------------------------------------------------


def _require_importer(user: User) -> None:
    if not transfer.can_import(user):
        raise PermissionDenied(_("Only sales managers and administrators can import customers."))


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = transfer.import_job_create(
                user=request.user,
                upload=form.cleaned_data["file"],
                on_duplicate=form.cleaned_data["on_duplicate"],
                default_owner=form.cleaned_data["default_owner"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect(job)
    context = {"form": form, "columns": resources.IMPORT_COLUMNS}
    return render(request, "customers/transfer/importjob_form.html", context)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(resources.import_template_headers())
    response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="customer-import-template.csv"'
    return response


@login_required
def import_detail(request: HttpRequest, job_pk: int) -> HttpResponse:
    """The preview with its Confirm button, the progress while running, then the results."""
    jobs = ImportJob.objects.visible_to(request.user).select_related("user", "default_owner")
    job = get_object_or_404(jobs, pk=job_pk)
    if request.method == "POST":
        try:
            job = transfer.import_job_start(job=job, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(job)
    if request.htmx:
        if not job.is_running:  # finished: reload once to show the results
            return HttpResponseClientRefresh()
        return render(request, "customers/transfer/importjob_detail.html#progress", {"job": job})
    context = {
        "job": job,
        "errors_page": Paginator(job.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page")),
        "can_run": job.user_id == request.user.pk and transfer.can_import(request.user),
    }
    return render(request, "customers/transfer/importjob_detail.html", context)


@login_required
def import_jobs(request: HttpRequest) -> HttpResponse:
    """The import log: the user's jobs, or every job for an administrator."""
    _require_importer(request.user)
    jobs = (
        ImportJob.objects.visible_to(request.user).select_related("user").defer("errors", "preview")
    )
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "customers/transfer/importjob_list.html", {"page_obj": page})


# --- export -----------------------------------------------------------------------------------


def _download(export_file: transfer.ExportFile) -> HttpResponse:
    response = HttpResponse(export_file.content, content_type=export_file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """GET: the export form for the list's current filter; POST: a masked file at once, or a
    request for an unmasked one."""
    if not transfer.can_export(request.user):
        raise PermissionDenied
    query = request.GET.copy()
    query.pop("page", None)
    form = ExportForm(request.POST or None, initial={"query": query.urlencode()})
    if request.method == "POST" and form.is_valid():
        params = QueryDict(form.cleaned_data["query"])
        file_format = form.cleaned_data["file_format"]
        if not form.cleaned_data["unmasked"]:
            return _download(
                transfer.customers_export(user=request.user, params=params, file_format=file_format)
            )
        try:
            transfer.export_request_create(
                user=request.user,
                params=params,
                file_format=file_format,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your request has been sent for approval."))
            return redirect(f"{reverse('customers:export')}?{params.urlencode()}")
    context = {
        "form": form,
        "count": transfer.export_queryset(request.user, QueryDict(form["query"].value())).count(),
        "export_requests": ExportRequest.objects.visible_to(request.user).select_related(
            "approval"
        )[:10],
    }
    return render(request, "customers/transfer/export_form.html", context)


@login_required
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The approved, unmasked file: for its requester only, once, before the link expires."""
    export_request = get_object_or_404(
        ExportRequest.objects.visible_to(request.user).usable(timezone.now()), token=token
    )
    try:
        export_file = transfer.export_request_download(
            export_request=export_request, by=request.user
        )
    except ValidationError as error:
        raise Http404 from error
    return _download(export_file)
