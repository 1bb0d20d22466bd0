from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import ActionPlan
from analytics.scope import Scope
from crm.accounts.models import Team, User
from crm.accounts.roles import Level
from crm.core.choices import use_cached_choices

MAX_RANGE_DAYS = 3 * 366


class Period:
    LAST_30_DAYS = "30d"
    THIS_MONTH = "month"
    THIS_QUARTER = "quarter"
    THIS_YEAR = "year"
    LAST_12_MONTHS = "12m"
    CUSTOM = "custom"

    CHOICES = [
        (LAST_30_DAYS, _("Last 30 days")),
        (THIS_MONTH, _("This month")),
        (THIS_QUARTER, _("This quarter")),
        (THIS_YEAR, _("This year")),
        (LAST_12_MONTHS, _("Last 12 months")),
        (CUSTOM, _("Custom range")),
    ]

    @classmethod
    def bounds(cls, period: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        if period == cls.LAST_30_DAYS:
            return today - datetime.timedelta(days=29), today
        if period == cls.THIS_MONTH:
            return today.replace(day=1), today
        if period == cls.THIS_QUARTER:
            return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
        if period == cls.THIS_YEAR:
            return today.replace(month=1, day=1), today
        first = today.replace(day=1)
        year, month = divmod(first.year * 12 + first.month - 1 - 11, 12)
        return datetime.date(year, month + 1, 1), today


def visible_teams(user: User) -> QuerySet[Team]:
    visibility = user.visibility
    if visibility.level == Level.ALL:
        return Team.objects.all()
    return Team.objects.filter(pk__in=visibility.team_ids)


def visible_people(user: User) -> QuerySet[User]:
    """People whose figures the user may look at: themselves and those of the teams they see."""
    visibility = user.visibility
    users = User.objects.filter(is_active=True)
    if visibility.level == Level.ALL:
        return users
    return users.filter(Q(team_id__in=visibility.team_ids) | Q(pk=user.pk))


class FilterForm(forms.Form):
    """The date range and dimension picker on top of every dashboard. A bad value is shown on
    the form and the dashboard falls back to the default for that field."""

    period = forms.ChoiceField(
        label=_("Period"), choices=Period.CHOICES, required=False, initial=Period.LAST_12_MONTHS
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("All teams")
    )
    owner = forms.ModelChoiceField(
        label=_("Person"), queryset=User.objects.none(), required=False, empty_label=_("Everyone")
    )
    by = forms.ChoiceField(label=_("Break down by"), required=False)

    def __init__(
        self,
        *args: Any,
        user: User,
        dimensions: list[tuple[str, Any]],
        default_period: str = Period.LAST_12_MONTHS,
        people: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.default_period = default_period
        self.fields["period"].initial = default_period
        teams = cast(forms.ModelChoiceField, self.fields["team"])
        people = cast(forms.ModelChoiceField, self.fields["owner"])
        if not people or user.visibility.level == Level.OWN:
            # A rep's dashboard is their own: nobody else to pick.
            del self.fields["team"], self.fields["owner"]
        else:
            teams.queryset = visible_teams(user)
            people.queryset = visible_people(user).order_by("username")
        by = cast(forms.ChoiceField, self.fields["by"])
        by.choices = dimensions
        by.initial = dimensions[0][0] if dimensions else ""
        if not dimensions:
            del self.fields["by"]
        use_cached_choices(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("period") == Period.CUSTOM:
            if start is None or end is None:
                self.add_error("start", _("Give both dates of a custom range."))
            elif end < start:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("end", _("Choose a range of at most three years."))
        return cleaned

    def scope(self) -> Scope:
        """The scope the valid fields describe; the default in place of any invalid one."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        today = timezone.localdate()
        period = data.get("period") or self.default_period
        params: dict[str, str] = {}
        if period == Period.CUSTOM and "start" not in self.errors and "end" not in self.errors:
            start, end = data["start"], data["end"]
            params.update(period=period, start=start.isoformat(), end=end.isoformat())
        else:
            if period == Period.CUSTOM:
                period = self.default_period
            start, end = Period.bounds(period, today)
            params["period"] = period
        team, owner = data.get("team"), data.get("owner")
        if team is not None:
            params["team"] = str(team.pk)
        if owner is not None:
            params["owner"] = str(owner.pk)
        by = data.get("by") or (self.fields["by"].initial if "by" in self.fields else "")
        if by:
            params["by"] = by
        return Scope(
            user=self.user, start=start, end=end, team=team, owner=owner, by=by, params=params
        )


class ActionPlanForm(forms.ModelForm):
    metric = forms.ChoiceField(label=_("Metric addressed"), required=False)

    class Meta:
        model = ActionPlan
        fields = ["title", "description", "meeting", "owner", "due_on", "metric", "metric_url"]
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "metric_url": forms.HiddenInput,
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from analytics.dashboards import metric_choices

        owners = cast(forms.ModelChoiceField, self.fields["owner"])
        owners.queryset = visible_people(user).order_by("username")
        metric = cast(forms.ChoiceField, self.fields["metric"])
        metric.choices = [("", _("— none —")), *metric_choices()]
        self.fields["due_on"].help_text = _("The owner is reminded before this day.")
        use_cached_choices(self)

    def clean_due_on(self) -> datetime.date:
        due_on = self.cleaned_data["due_on"]
        if self.instance.pk is None and due_on < timezone.localdate():
            raise forms.ValidationError(_("The due date has already passed."))
        return cast(datetime.date, due_on)

    def clean_metric_url(self) -> str:
        # Only a link to a dashboard of this site: the field travels through the browser.
        url = self.cleaned_data.get("metric_url") or ""
        if url and not url.startswith("/analytics/"):
            return ""
        return url


class ActionPlanStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionPlan.Status.choices)
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExportRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Say what the contact details are needed for: your manager decides."),
    )
