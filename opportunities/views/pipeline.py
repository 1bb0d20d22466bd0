"""The pipeline's screens: board (with the drop endpoint), list with export, detail, create,
edit and the stage form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.choices import cached_rows, use_cached_choices
from crm.core.visibility import get_changeable_or_404, get_visible_or_404
from customers.models import Customer
from opportunities import export, services
from opportunities.board import board_columns
from opportunities.filters import OpportunityFilter
from opportunities.forms import (
    CompetitorForm,
    ExportForm,
    LineForm,
    MoveForm,
    ObjectionForm,
    OpportunityForm,
    OrderForm,
)
from opportunities.models import Opportunity, OpportunityField, Order, Stage
from opportunities.navigation import sees_pipeline

PAGE_SIZE = 25


def _require_pipeline(request: HttpRequest) -> None:
    if not sees_pipeline(request.user):
        raise PermissionDenied


def _filtered(request: HttpRequest, params: QueryDict) -> OpportunityFilter:
    opportunities = Opportunity.objects.visible_to(request.user)
    return OpportunityFilter(params, queryset=opportunities, user=request.user)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- board ----------------------------------------------------------------------------------------


def _board_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    opportunity_filter = _filtered(request, params)
    return {
        "filter": opportunity_filter,
        "columns": board_columns(opportunity_filter.qs),
        "filters_query": params.urlencode(),
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    _require_pipeline(request)
    params = request.GET.copy()
    params.pop("ordering", None)
    context = _board_context(request, params)
    if request.htmx and not request.htmx.boosted:
        return render(request, "opportunities/opportunity_board.html#board", context)
    return render(request, "opportunities/opportunity_board.html", context)


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """The board's drop and the detail page's stage form: both call the same service. A refused
    move re-renders the board as it was (the card returns) with the reason; a user who may not
    change the opportunity gets a 403 (on the board, one that reloads it)."""
    on_board = request.POST.get("from") == "board"
    try:
        opportunity = get_changeable_or_404(
            Opportunity.objects.select_related("stage", "owner"), request.user, pk=pk
        )
        services.check_can_change(opportunity, request.user)
    except PermissionDenied as error:
        if not on_board:
            raise
        # The card has already left its column in the browser: a 403 is not swapped in, so the
        # board reloads as it is and shows why.
        messages.error(request, str(error))
        response = HttpResponseForbidden()
        response["HX-Refresh"] = "true"
        return response
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_move_stage(
                opportunity=opportunity,
                stage=form.cleaned_data["stage"],
                by=request.user,
                lost_reason=form.cleaned_data["lost_reason"],
                lost_note=form.cleaned_data["lost_note"],
            )
        except (ValidationError, PermissionDenied) as error:
            text = _error_text(error) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text)
        else:
            messages.success(
                request,
                _("“%(name)s” moved to %(stage)s.")
                % {"name": opportunity.name, "stage": form.cleaned_data["stage"]},
            )
    else:
        messages.error(request, _("Choose a stage to move to."))
    if on_board:
        params = QueryDict(request.POST.get("filters", ""))
        context = _board_context(request, params)
        return render(request, "opportunities/opportunity_board.html#board", context)
    return redirect(opportunity)


# --- list and export ------------------------------------------------------------------------------


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    _require_pipeline(request)
    opportunity_filter = _filtered(request, request.GET)
    rows = opportunity_filter.qs.with_weighted().select_related("customer", "owner", "stage")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": opportunity_filter, "page_obj": page}
    if request.htmx and not request.htmx.boosted:
        return render(request, "opportunities/opportunity_list.html#results", context)
    return render(request, "opportunities/opportunity_list.html", context)


@login_required
def export_view(request: HttpRequest) -> HttpResponse:
    """Opportunities hold no contact data, so the roles allowed to export get the file at once;
    every export is logged."""
    if not export.can_export(request.user):
        raise PermissionDenied
    query = request.GET.copy()
    query.pop("page", None)
    form = ExportForm(request.POST or None, initial={"query": query.urlencode()})
    if request.method == "POST" and form.is_valid():
        export_file = export.opportunities_export(
            user=request.user,
            params=QueryDict(form.cleaned_data["query"]),
            file_format=form.cleaned_data["file_format"],
        )
        response = HttpResponse(export_file.content, content_type=export_file.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
        response["Cache-Control"] = "no-store"
        return response
    count = _filtered(request, QueryDict(form["query"].value() or "")).qs.count()
    return render(request, "opportunities/export_form.html", {"form": form, "count": count})


# --- one opportunity ------------------------------------------------------------------------------


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_visible_or_404(
        Opportunity.objects.select_related(
            "customer", "owner", "stage", "source", "lost_reason", "created_by"
        ),
        request.user,
        pk=pk,
    )
    order = (
        Order.objects.filter(opportunity=opportunity)
        .with_payments(timezone.localdate())
        .prefetch_related("instalments")
        .first()
    )
    can_change = services.can_change(opportunity, request.user)
    context = {
        "opportunity": opportunity,
        "visits": opportunity.stage_visits.select_related("stage", "from_stage", "by"),
        "lines": opportunity.lines.all(),
        "competitors": opportunity.competitors.all(),
        "objections": opportunity.objections.select_related("type", "recorded_by"),
        "milestones": opportunity.milestone_tasks.select_related("task__owner"),
        "order": order,
        "can_change": can_change,
        "custom_values": [
            (definition.display_label, opportunity.custom_data[definition.key])
            for definition in cached_rows(OpportunityField.objects.filter(is_active=True))
            if opportunity.custom_data.get(definition.key) not in (None, "")
        ],
    }
    if can_change:
        stages = services.allowed_stages(opportunity)
        context |= {
            "move_form": use_cached_choices(MoveForm(stages=stages)),
            "can_move": bool(stages),
            "line_form": LineForm(),
            "competitor_form": CompetitorForm(),
            "objection_form": use_cached_choices(ObjectionForm()),
            "order_form": OrderForm(initial={"amount": opportunity.amount})
            if order is None and opportunity.stage.is_open
            else None,
        }
    return render(request, "opportunities/opportunity_detail.html", context)


@login_required
def create(request: HttpRequest) -> HttpResponse:
    """创建销售机会 from a customer the user may see (``?customer=<pk>``)."""
    _require_pipeline(request)
    customer = get_changeable_or_404(
        Customer, request.user, pk=request.GET.get("customer") or request.POST.get("customer") or 0
    )
    form = OpportunityForm(
        request.POST or None,
        user=request.user,
        initial={"stage": Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).first()},
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: value for name, value in form.model_fields().items() if value is not None}
        try:
            opportunity = services.opportunity_create(customer=customer, by=request.user, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Opportunity created."))
            return redirect(opportunity)
    return render(
        request, "opportunities/opportunity_form.html", {"form": form, "customer": customer}
    )


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_visible_or_404(
        Opportunity.objects.select_related("customer", "owner", "stage"), request.user, pk=pk
    )
    services.check_can_change(opportunity, request.user)
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    if request.method == "POST" and form.is_valid():
        changes = form.model_fields()
        if changes.get("owner") is None:
            changes.pop("owner", None)
        # The form wrote the changes onto the instance; the service saves them.
        opportunity.refresh_from_db()
        try:
            services.opportunity_update(opportunity=opportunity, by=request.user, **changes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect(opportunity)
    return render(
        request,
        "opportunities/opportunity_form.html",
        {"form": form, "customer": opportunity.customer, "opportunity": opportunity},
    )
