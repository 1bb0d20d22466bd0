from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.core.choices import cached_rows, use_cached_choices
from customers.filters import CUSTOM_PREFIX, CustomerFilter
from opportunities.models import Opportunity, OpportunityField, Stage


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime.date):
            return value.strftime("%Y-%m")
        return super().format_value(value)


class MonthField(forms.DateField):
    widget = MonthInput
    input_formats = ["%Y-%m"]


class MonthFilter(django_filters.Filter):
    field_class = MonthField

    def filter(self, qs: QuerySet[Any], value: datetime.date | None) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(
            **{f"{self.field_name}__year": value.year, f"{self.field_name}__month": value.month}
        )


class OpportunityFilter(django_filters.FilterSet):
    """The board's and the list's filters; each field has an index or a small join behind it."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    stage = django_filters.ModelChoiceFilter(
        label=_("Stage"), queryset=Stage.objects.filter(is_active=True)
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Stage.Kind.choices, field_name="stage__kind"
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.all(), field_name="owner__team"
    )
    close_month = MonthFilter(label=_("Close month"), field_name="expected_close_date")
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"), field_name="amount", lookup_expr="gte"
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount up to"), field_name="amount", lookup_expr="lte"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("expected_close_date", "close"),
            ("amount", "amount"),
            ("created_at", "created"),
            ("stage__sort_order", "stage"),
        ),
        field_labels={
            "expected_close_date": _("Close date"),
            "amount": _("Amount"),
            "created_at": _("Created"),
            "stage__sort_order": _("Stage"),
        },
    )

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = CustomerFilter.owner_choices(user)
        for definition in cached_rows(OpportunityField.objects.filter(is_active=True)):
            self.filters[CUSTOM_PREFIX + definition.key] = CustomerFilter.custom_filter(
                definition  # type: ignore[arg-type]
            )

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            use_cached_choices(super().form)  # stage, owner and team dropdowns, no query
        return self._form

    def filter_custom_date(self, queryset: QuerySet[Opportunity], name: str, value: Any) -> Any:
        return queryset.filter(**{name: value.isoformat()})

    def search(self, queryset: QuerySet[Opportunity], name: str, value: str) -> Any:
        value = value.strip()
        return queryset.filter(
            Q(name__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__number__iexact=value)
        )
