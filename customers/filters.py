from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Province, Region, Team, User
from crm.accounts.roles import Level
from crm.core.choices import cached_rows, use_cached_choices
from customers.models import (
    Customer,
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    CustomField,
    DemandTag,
    Industry,
    SourceChannel,
    Tier,
)

CUSTOM_PREFIX = "cf_"


class CustomerFilter(django_filters.FilterSet):
    """Every list filter of the archive; each field has an index or a small join behind it."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    type = django_filters.ChoiceFilter(label=_("Customer type"), choices=Customer.Type.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Customer.Status.choices)
    lifecycle = django_filters.ChoiceFilter(
        label=_("Lifecycle stage"), choices=Customer.Lifecycle.choices
    )
    value_tier = django_filters.ChoiceFilter(label=_("Value tier"), choices=Tier.choices)
    activity_tier = django_filters.ChoiceFilter(label=_("Activity tier"), choices=Tier.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("Category"), queryset=CustomerCategory.objects.filter(is_active=True)
    )
    industry = django_filters.ModelChoiceFilter(
        label=_("Industry"),
        queryset=Industry.objects.filter(is_active=True).select_related("parent"),
        method="filter_industry",
    )
    scale = django_filters.ModelChoiceFilter(
        label=_("Scale"), queryset=CustomerScale.objects.filter(is_active=True)
    )
    source = django_filters.ModelChoiceFilter(
        label=_("Source channel"), queryset=SourceChannel.objects.filter(is_active=True)
    )
    region = django_filters.ModelChoiceFilter(label=_("Region"), queryset=Region.objects.all())
    province = django_filters.ModelChoiceFilter(
        label=_("Province"), queryset=Province.objects.all()
    )
    level = django_filters.ModelChoiceFilter(
        label=_("Level"), queryset=CustomerLevel.objects.filter(is_active=True)
    )
    tags = django_filters.ModelChoiceFilter(
        label=_("Tag"), queryset=DemandTag.objects.filter(is_active=True), method="filter_tag"
    )
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.all(), field_name="owner__team"
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created between"),
        field_name="created_at",
        widget=django_filters.widgets.RangeWidget(
            attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("number", "number"),
            ("name_initials", "name"),
            ("created_at", "created"),
            ("annual_amount", "amount"),
        ),
        field_labels={
            "number": _("Number"),
            "name_initials": _("Name"),
            "created_at": _("Created"),
            "annual_amount": _("Annual amount"),
        },
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and user.is_authenticated:
            self.filters["owner"].queryset = self.owner_choices(user)
        else:
            del self.filters["owner"]
        for definition in cached_rows(CustomField.objects.filter(is_active=True)):
            self.filters[CUSTOM_PREFIX + definition.key] = self.custom_filter(definition)

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            use_cached_choices(super().form)  # a dozen dropdowns, no query
        return self._form

    @staticmethod
    def owner_choices(user: User) -> QuerySet[User]:
        """Owners the user may filter on: themselves, or the people whose records they see."""
        visibility = user.visibility
        users = User.objects.filter(is_active=True)
        if visibility.team_ids:
            return users.filter(Q(team_id__in=visibility.team_ids) | Q(pk=user.pk))
        if visibility.level == Level.ALL:
            return users
        return users.filter(pk=user.pk)

    @staticmethod
    def custom_filter(definition: CustomField) -> django_filters.Filter:
        field_name = f"custom_data__{definition.key}"
        label = definition.display_label
        if definition.type == CustomField.Type.CHOICE:
            return django_filters.ChoiceFilter(
                field_name=field_name,
                label=label,
                choices=[(option, option) for option in definition.option_list()],
            )
        if definition.type == CustomField.Type.NUMBER:
            return django_filters.NumberFilter(field_name=field_name, label=label)
        if definition.type == CustomField.Type.DATE:
            return django_filters.DateFilter(
                field_name=field_name,
                label=label,
                widget=forms.DateInput(attrs={"type": "date"}),
                method="filter_custom_date",
            )
        return django_filters.CharFilter(
            field_name=field_name, label=label, lookup_expr="icontains"
        )

    def search(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.search(value)  # type: ignore[attr-defined]

    def filter_industry(
        self, queryset: QuerySet[Customer], name: str, value: Industry
    ) -> QuerySet[Customer]:
        # A section (制造业) includes its divisions (汽车制造业 …).
        return queryset.filter(Q(industry=value) | Q(industry__parent=value))

    def filter_tag(
        self, queryset: QuerySet[Customer], name: str, value: DemandTag
    ) -> QuerySet[Customer]:
        return queryset.filter(customertag__tag=value)

    def filter_custom_date(self, queryset: QuerySet[Customer], name: str, value: Any) -> Any:
        return queryset.filter(**{name: value.isoformat()})
