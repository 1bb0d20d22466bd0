"""The dashboards, their table exports, the drill-down lists and their exports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from analytics import dashboards, datasets, exports
from analytics.dashboards import Dashboard
from analytics.forms import ExportRequestForm, FilterForm
from analytics.models import ExportRequest
from analytics.scope import Scope
from crm.accounts.models import User
from crm.approvals.models import FileFormat
from customers.transfer import ExportFile

PAGE_SIZE = 50


def _dashboard_or_404(key: str, user: User) -> Dashboard:
    """A dashboard the user's role may open; any other is a 404, like a record out of scope."""
    try:
        dashboard = dashboards.get(key)
    except KeyError as error:
        raise Http404 from error
    if not dashboard.allowed(user):
        raise Http404
    return dashboard


def _filter(request: HttpRequest, dashboard: Dashboard, params: QueryDict) -> FilterForm:
    form = FilterForm(
        params or None,
        user=request.user,
        dimensions=dashboard.dimensions,
        default_period=dashboard.default_period,
        people=dashboard.people,
    )
    form.is_valid()  # errors show on the form; the scope takes the valid fields only
    return form


def _download(export_file: ExportFile) -> HttpResponse:
    response = HttpResponse(export_file.content, content_type=export_file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _file_format(request: HttpRequest) -> str:
    value = request.GET.get("format") or request.POST.get("format") or FileFormat.XLSX
    if value not in FileFormat.values:
        raise Http404
    return value


@login_required
def index(request: HttpRequest) -> HttpResponse:
    available = dashboards.for_user(request.user)
    if not available:
        raise Http404
    return redirect("analytics:dashboard", key=available[0].key)


@login_required
def dashboard_view(request: HttpRequest, key: str) -> HttpResponse:
    dashboard = _dashboard_or_404(key, request.user)
    form = _filter(request, dashboard, request.GET)
    scope = form.scope()
    can_export = exports.can_export(request.user)
    context = {
        "dashboard": dashboard,
        "dashboards": dashboards.for_user(request.user),
        "form": form,
        "scope": scope,
        "board_html": _board_html(dashboard, scope, can_export),
    }
    return render(request, "analytics/dashboard.html", context)


def _board_html(dashboard: Dashboard, scope: Scope, can_export: bool) -> str:
    """The figures as HTML, from the cache when the same scope and filter asked lately: a
    year of tables costs more to render than to query."""
    key = f"{scope.cache_key(dashboard.key)}:html:{int(can_export)}"
    html = cache.get(key) if dashboards.cache_seconds() > 0 else None
    if html is None:
        query = scope.query()
        context = {
            "dashboard": dashboard,
            "board": dashboard.board(scope),
            "can_export": can_export,
            "query": query,
            "here": f"{reverse('analytics:dashboard', args=[dashboard.key])}?{query}",
            # The charts' axis suffixes, in the interface's language (analytics.js reads them).
            "units": {"hours": _("h"), "days": _("d")},
        }
        html = render_to_string("analytics/dashboard.html#board", context)
        cache.set(key, html, dashboards.cache_seconds())
    return mark_safe(html)  # noqa: S308 - our own template's output


@login_required
def table_export(request: HttpRequest, key: str) -> HttpResponse:
    dashboard = _dashboard_or_404(key, request.user)
    if not exports.can_export(request.user):
        raise PermissionDenied(_("Your role may not export."))
    params = request.GET.copy()
    chart_key = params.pop("chart", [""])[0]
    file_format = _file_format(request)
    params.pop("format", None)
    scope = _filter(request, dashboard, params).scope()
    try:
        chart = dashboard.board(scope).chart(chart_key)
    except KeyError as error:
        raise Http404 from error
    export_file = exports.table_export(
        user=request.user,
        dashboard=dashboard.key,
        chart=chart.key,
        table=chart.table(),
        scope=scope,
        file_format=file_format,
    )
    return _download(export_file)


def _dataset_or_404(key: str, user: User) -> tuple[datasets.Dataset, Dashboard]:
    try:
        dataset = datasets.get(key)
    except KeyError as error:
        raise Http404 from error
    return dataset, _dashboard_or_404(dataset.dashboard, user)


def _scope_for(request: HttpRequest, dashboard: Dashboard, params: QueryDict) -> Scope:
    return _filter(request, dashboard, params).scope()


@login_required
def records(request: HttpRequest, dataset_key: str) -> HttpResponse:
    """The records behind a chart point, within what the user sees."""
    dataset, dashboard = _dataset_or_404(dataset_key, request.user)
    scope = _scope_for(request, dashboard, request.GET)
    try:
        rows = dataset.records(scope, request.GET)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    except (datasets.BadPointError, ValidationError, ValueError) as error:
        raise Http404 from error
    context = {
        "dataset": dataset,
        "dashboard": dashboard,
        "scope": scope,
        "page_obj": page,
        "rows": [
            (
                dataset.link(record),
                [(column.value(record), column.unit) for column in dataset.columns],
            )
            for record in page.object_list
        ],
        "back": f"{reverse('analytics:dashboard', args=[dashboard.key])}?{scope.query()}",
        "can_export": exports.can_export(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/records.html", context)


@login_required
def records_export(request: HttpRequest, dataset_key: str) -> HttpResponse:
    """GET: the export form of a list; POST: its file at once, or for a list holding contact
    data, a request for approval."""
    dataset, dashboard = _dataset_or_404(dataset_key, request.user)
    if not exports.can_export(request.user):
        raise PermissionDenied(_("Your role may not export."))
    params = (
        QueryDict(request.POST.get("query", "")) if request.method == "POST" else request.GET.copy()
    )
    params = params.copy()
    params.pop("page", None)
    scope = _scope_for(request, dashboard, params)
    try:
        count = dataset.records(scope, params).count()
    except (datasets.BadPointError, ValidationError, ValueError) as error:
        raise Http404 from error
    form = ExportRequestForm(request.POST or None) if dataset.contact_data else None
    if request.method == "POST":
        file_format = _file_format(request)
        if not dataset.contact_data:
            return _download(
                exports.list_export(
                    user=request.user,
                    dataset=dataset,
                    scope=scope,
                    params=params,
                    file_format=file_format,
                )
            )
        if form is not None and form.is_valid():
            try:
                exports.export_request_create(
                    user=request.user,
                    dataset=dataset,
                    scope=scope,
                    params=params,
                    file_format=file_format,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your request has been sent for approval."))
                return redirect("analytics:exports")
    context: dict[str, Any] = {
        "dataset": dataset,
        "dashboard": dashboard,
        "form": form,
        "count": count,
        "query": params.urlencode(),
        "formats": FileFormat.choices,
        "back": f"{reverse('analytics:records', args=[dataset.key])}?{params.urlencode()}",
    }
    return render(request, "analytics/records_export.html", context)


@login_required
def export_requests(request: HttpRequest) -> HttpResponse:
    requests = ExportRequest.objects.visible_to(request.user).select_related("approval")[:50]
    titles = {key: dataset.title for key, dataset in datasets.all_datasets().items()}
    return render(
        request,
        "analytics/export_requests.html",
        {"export_requests": [(item, titles.get(item.dataset, item.dataset)) for item in requests]},
    )


@login_required
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The approved file with contact data: for its requester only, once, before it expires."""
    export_request = get_object_or_404(
        ExportRequest.objects.visible_to(request.user).usable(timezone.now()), token=token
    )
    _dataset, dashboard = _dataset_or_404(export_request.dataset, request.user)
    try:
        export_file = exports.export_request_download(
            export_request=export_request,
            by=request.user,
            scope_for=lambda params: _scope_for(request, dashboard, params),
        )
    except ValidationError as error:
        raise Http404 from error
    return _download(export_file)
