"""What hangs on an opportunity: line items, competitors and the objection log. Each form posts
from the detail page and returns to it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.visibility import get_visible_or_404
from opportunities import services
from opportunities.forms import CompetitorForm, LineForm, ObjectionForm, ObjectionResolveForm
from opportunities.models import Competitor, Objection, Opportunity, OpportunityLine


def _opportunity(request: HttpRequest, pk: int) -> Opportunity:
    opportunity = get_visible_or_404(
        Opportunity.objects.select_related("owner"), request.user, pk=pk
    )
    services.check_can_change(opportunity, request.user)
    return opportunity


def _form_errors(request: HttpRequest, form_errors: dict[str, list[str]]) -> None:
    for field_errors in form_errors.values():
        for error in field_errors:
            messages.error(request, error)


@login_required
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    form = LineForm(request.POST)
    if form.is_valid():
        services.line_add(opportunity=opportunity, by=request.user, **form.cleaned_data)
        messages.success(request, _("Line item added."))
    else:
        _form_errors(request, form.errors)
    return redirect(f"{opportunity.get_absolute_url()}#lines")


@login_required
@require_POST
def line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    line = _child(OpportunityLine, opportunity, line_pk)
    services.line_remove(line=line, by=request.user)
    messages.success(request, _("Line item removed."))
    return redirect(f"{opportunity.get_absolute_url()}#lines")


@login_required
@require_POST
def competitor_add(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    form = CompetitorForm(request.POST)
    if form.is_valid():
        services.competitor_add(opportunity=opportunity, by=request.user, **form.cleaned_data)
        messages.success(request, _("Competitor added."))
    else:
        _form_errors(request, form.errors)
    return redirect(f"{opportunity.get_absolute_url()}#competitors")


@login_required
@require_POST
def competitor_remove(request: HttpRequest, pk: int, competitor_pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    competitor = _child(Competitor, opportunity, competitor_pk)
    services.competitor_remove(competitor=competitor, by=request.user)
    messages.success(request, _("Competitor removed."))
    return redirect(f"{opportunity.get_absolute_url()}#competitors")


@login_required
@require_POST
def objection_add(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.objection_add(opportunity=opportunity, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Objection recorded."))
    else:
        _form_errors(request, form.errors)
    return redirect(f"{opportunity.get_absolute_url()}#objections")


@login_required
@require_POST
def objection_update(request: HttpRequest, pk: int, objection_pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    objection = _child(Objection, opportunity, objection_pk)
    form = ObjectionResolveForm(request.POST, instance=objection)
    if form.is_valid():
        services.objection_update(objection=objection, by=request.user, **form.cleaned_data)
        messages.success(request, _("Objection updated."))
    else:
        _form_errors(request, form.errors)
    return redirect(f"{opportunity.get_absolute_url()}#objections")


def _child(model: type[Any], opportunity: Opportunity, pk: int) -> Any:
    """A row of an opportunity the caller already scoped: any other pk is a 404."""
    return get_object_or_404(
        model.objects.select_related("opportunity__owner"), opportunity=opportunity, pk=pk
    )
