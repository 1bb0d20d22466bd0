"""Satisfaction (满意度) for supervisors and managers: CSAT and NPS rolled up per agent,
department and month, and the latest low scores with their follow-up tasks."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.roles import Role
from crm.core.navigation import NavItem, register
from tickets.models import Survey
from tickets.surveys import cached_score_rollups, low_limit

PERIODS = {"3": 3, "6": 6, "12": 12, "24": 24}
LOW_ROWS = 20


def may_see_satisfaction(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    # Roles only (cached on the user): the sidebar asks on every page.
    return user.is_superuser or user.has_role(
        Role.SERVICE_SUPERVISOR, Role.SALES_MANAGER, Role.ANALYST, Role.ADMIN
    )


@login_required
def satisfaction_report(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_see_satisfaction(user):
        raise Http404
    kind = request.GET.get("kind", Survey.Kind.CSAT)
    if kind not in Survey.Kind.values:
        kind = Survey.Kind.CSAT
    months = PERIODS.get(request.GET.get("months", ""), 12)
    since = timezone.now() - datetime.timedelta(days=31 * months)
    surveys = Survey.objects.visible_to(user).filter(answered_at__gte=since)
    low_max = low_limit(kind)
    rollups = cached_score_rollups(
        surveys, scope=f"user-{user.pk}", kind=kind, low=low_max, months=months
    )
    low = (
        surveys.filter(kind=kind, score__lte=low_max)
        .select_related("ticket", "customer", "agent", "followup_task")
        .order_by("-answered_at")[:LOW_ROWS]
    )
    context = {
        "kind": kind,
        "kinds": Survey.Kind.choices,
        "months": months,
        "periods": PERIODS.values(),
        "sections": [
            (_("By agent"), rollups["agent"]),
            (_("By department"), rollups["department"]),
            (_("By month"), rollups["month"]),
        ],
        "low": list(low),
        "low_max": low_max,
    }
    return render(request, "tickets/satisfaction.html", context)


register(
    NavItem(
        "tickets_satisfaction",
        _("Satisfaction"),
        "tickets:satisfaction",
        "bi-star-half",
        _("My work"),
        31,
        may_see_satisfaction,
    )
)
