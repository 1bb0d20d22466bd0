"""The forecast page: weighted pipeline by month, owner and team; commit vs best case; won vs
target per month."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from opportunities import forecast
from opportunities.filters import OpportunityFilter
from opportunities.models import Opportunity, Order
from opportunities.navigation import sees_pipeline


def _year(value: str | None) -> int:
    today = timezone.localdate()
    try:
        year = int(value or today.year)
    except ValueError:
        return today.year
    return year if 2000 <= year <= 2100 else today.year


@login_required
def forecast_view(request: HttpRequest) -> HttpResponse:
    if not sees_pipeline(request.user):
        raise PermissionDenied
    year = _year(request.GET.get("year"))
    scope = OpportunityFilter(
        request.GET, queryset=Opportunity.objects.visible_to(request.user), user=request.user
    )
    # Only the owner and team filters shape the forecast; the months are its columns.
    scope.form.is_valid()
    owner = scope.form.cleaned_data.get("owner")
    team = scope.form.cleaned_data.get("team")
    opportunities = Opportunity.objects.visible_to(request.user)
    orders = Order.objects.visible_to(request.user)
    if owner is not None:
        opportunities, orders = opportunities.filter(owner=owner), orders.filter(owner=owner)
    if team is not None:
        opportunities = opportunities.filter(owner__team=team)
        orders = orders.filter(owner__team=team)
    targets = forecast.monthly_targets(request.user, year, owner=owner, team=team)
    months = forecast.by_month(opportunities, orders, targets, year)
    owners = forecast.by_owner(opportunities, orders, year)
    context = {
        "filter": scope,
        "year": year,
        "years": range(year - 2, year + 3),
        "months": months,
        "owners": owners,
        "teams": forecast.by_team(owners),
        "total": forecast.Row(
            None,
            amount=sum((row.amount for row in months), forecast.ZERO),
            weighted=sum((row.weighted for row in months), forecast.ZERO),
            won=sum((row.won for row in months), forecast.ZERO),
            committed=sum((row.committed for row in months), forecast.ZERO),
            best=sum((row.best for row in months), forecast.ZERO),
            target=sum((row.target or forecast.ZERO for row in months), forecast.ZERO) or None,
        ),
    }
    return render(request, "opportunities/forecast.html", context)
