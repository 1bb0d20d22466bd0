"""Action plans (行动计划): the list per team, one item, new and edit, status changes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics import services
from analytics.forms import ActionPlanForm, ActionPlanStatusForm, visible_teams
from analytics.models import ActionPlan
from crm.accounts.roles import Level
from crm.core.inputs import as_pk
from crm.core.visibility import ensure_may_change, get_visible_or_404

PAGE_SIZE = 30
STATUS_FILTERS = {"open": ActionPlan.OPEN, "done": (ActionPlan.Status.DONE,), "all": None}


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The items the user sees, by team, open first; filters: team, status, mine."""
    plans = ActionPlan.objects.visible_to(request.user)
    teams = list(visible_teams(request.user)) if request.user.visibility.level != Level.OWN else []
    if (team_id := as_pk(request.GET.get("team"))) is not None:
        plans = plans.filter(team_id=team_id)
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    if STATUS_FILTERS[status] is not None:
        plans = plans.filter(status__in=STATUS_FILTERS[status])
    if request.GET.get("mine"):
        plans = plans.filter(owner=request.user)
    today = timezone.localdate()
    summary = plans.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(status__in=ActionPlan.OPEN, due_on__lt=today)),
    )
    rows = plans.select_related("owner", "team").order_by("team__name", "due_on", "pk")
    context = {
        "page_obj": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "teams": teams,
        "team_id": team_id,
        "status": status,
        "statuses": [("open", _("Open")), ("done", _("Done")), ("all", _("All"))],
        "mine": bool(request.GET.get("mine")),
        "summary": summary,
        "today": today,
        "may_add": not request.user.visibility.read_only,
    }
    return render(request, "analytics/actionplan_list.html", context)


@login_required
def plan_create(request: HttpRequest) -> HttpResponse:
    ensure_may_change(request.user)
    came_from = request.GET.get("from", "")
    initial = {
        "owner": request.user.pk,
        "metric": request.GET.get("metric", ""),
        # Only a dashboard of this site: the page shows it as a link.
        "metric_url": came_from if came_from.startswith("/analytics/") else "",
    }
    form = ActionPlanForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        plan = services.action_plan_create(by=request.user, owner=data.pop("owner"), **data)
        messages.success(request, _("Action plan added."))
        return redirect(plan)
    return render(request, "analytics/actionplan_form.html", {"form": form, "plan": None})


def _plan_or_404(request: HttpRequest, pk: int) -> ActionPlan:
    plans = ActionPlan.objects.select_related("owner", "team", "created_by")
    return get_visible_or_404(plans, request.user, pk=pk)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    context: dict[str, Any] = {
        "plan": plan,
        "may_edit": services.may_edit(plan, request.user),
        "status_form": ActionPlanStatusForm(initial={"status": plan.status}),
        "moves": [
            (status, label)
            for status, label in ActionPlan.Status.choices
            if plan.can_move_to(status)
        ],
        "history": plan.history.select_related("history_user")[:20],  # type: ignore[attr-defined]
        "is_overdue": plan.is_overdue(),
    }
    return render(request, "analytics/actionplan_detail.html", context)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    if not services.may_edit(plan, request.user):
        raise PermissionDenied(_("You cannot change this action plan."))
    form = ActionPlanForm(request.POST or None, instance=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.action_plan_update(plan=plan, by=request.user, changes=dict(form.cleaned_data))
        messages.success(request, _("Action plan saved."))
        return redirect(plan)
    return render(request, "analytics/actionplan_form.html", {"form": form, "plan": plan})


@login_required
@require_POST
def plan_move(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    form = ActionPlanStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect(plan)
    try:
        services.action_plan_move(
            plan=plan,
            status=form.cleaned_data["status"],
            by=request.user,
            outcome=form.cleaned_data["outcome"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Status changed."))
    return redirect(plan)
