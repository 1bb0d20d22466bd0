import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.accounts.roles import Level
from crm.core.attachments import validate_upload
from crm.core.dates import PlausibleDates
from followups.models import FollowUpMethod, FollowUpPlan, FollowUpRecord, FollowUpTask

# Next steps that promise nothing; a next step must name an action.
VAGUE_NEXT_STEPS = {
    "再联系",
    "保持联系",
    "待定",
    "跟进",
    "继续跟进",
    "看情况",
    "再说",
    "后续再说",
    "有空再联系",
    "tbd",
    "follow up",
    "follow-up",
    "keep in touch",
    "later",
    "to be decided",
    "stay in touch",
}
MIN_NEXT_STEP_CHARS = 4
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def is_vague(text: str) -> bool:
    stripped = _PUNCTUATION.sub(" ", text).strip().lower()
    return stripped in VAGUE_NEXT_STEPS or len(stripped.replace(" ", "")) < MIN_NEXT_STEP_CHARS


def assignable_users(user: User) -> Any:
    """The user and, for a manager, the active members of the teams they reach."""
    users = User.objects.filter(is_active=True)
    visibility = user.visibility
    if user.is_superuser or visibility.level == Level.ALL:
        return users.order_by("username")
    return users.filter(Q(pk=user.pk) | Q(team_id__in=visibility.team_ids)).order_by("username")


class PlanForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = FollowUpPlan
        fields = [
            "stage",
            "cadence",
            "interval_days",
            "method",
            "template",
            "content_points",
            "owner",
            "reminder_minutes",
            "starts_on",
            "ends_on",
            "time_of_day",
            "is_active",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "time_of_day": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "content_points": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_users(user)
        self.fields["method"].queryset = FollowUpMethod.objects.filter(is_active=True)
        self.fields["template"].queryset = self.fields["template"].queryset.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("cadence") == FollowUpPlan.Cadence.CUSTOM and not data.get("interval_days"):
            self.add_error("interval_days", _("Give the number of days for a custom cadence."))
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end comes before the start."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files]
        for upload in cleaned:
            validate_upload(upload)
        return cleaned


class RecordForm(PlausibleDates, forms.ModelForm):
    attachments = MultipleFileField(label=_("Evidence (files)"), required=False)

    class Meta:
        model = FollowUpRecord
        fields = [
            "occurred_at",
            "method",
            "our_participants",
            "their_participants",
            "topic",
            "summary",
            "feedback",
            "next_step",
            "next_step_at",
        ]
        widgets = {
            "occurred_at": DATETIME_WIDGET,
            "next_step_at": DATETIME_WIDGET,
            "summary": forms.Textarea(attrs={"rows": 3}),
            "feedback": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "next_step": _("A concrete action, e.g. “send the quotation for 200 units”."),
        }

    def __init__(self, *args: Any, task: FollowUpTask | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = FollowUpMethod.objects.filter(is_active=True)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        if task is not None:
            self.fields["method"].initial = task.method_id
            self.fields["topic"].initial = task.title

    def clean_occurred_at(self) -> datetime.datetime:
        value: datetime.datetime = self.cleaned_data["occurred_at"]
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError(_("A follow-up is recorded after it happened."))
        return value

    def clean_next_step(self) -> str:
        value: str = self.cleaned_data["next_step"].strip()
        if is_vague(value):
            raise ValidationError(
                _(
                    "Say what you will do next, concretely (for example “send the quotation”), "
                    "not just “follow up”."
                ),
                code="vague",
            )
        return value

    def clean_next_step_at(self) -> datetime.datetime:
        value: datetime.datetime = self.cleaned_data["next_step_at"]
        if value <= timezone.now():
            raise ValidationError(_("The next step needs a date in the future."), code="past")
        return value


class CommitmentForm(PlausibleDates, forms.Form):
    # It becomes a task's title: no longer than that (the commitment itself keeps 300).
    description = forms.CharField(
        label=_("Commitment or to-do"),
        max_length=FollowUpTask._meta.get_field("title").max_length,
        required=False,
    )
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DATETIME_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("description") and not data.get("due_at"):
            self.add_error("due_at", _("Give the commitment a due date."))
        if data.get("due_at") and not data.get("description"):
            self.add_error("description", _("Say what was promised."))
        return data


CommitmentFormSet = forms.formset_factory(CommitmentForm, extra=2, max_num=10)


class TransferForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Transfer to"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        colleagues = User.objects.filter(is_active=True).exclude(pk=user.pk)
        if user.team_id is not None and not user.is_superuser:
            visibility = user.visibility
            teams = {user.team_id, *visibility.team_ids}
            colleagues = colleagues.filter(team_id__in=teams)
        self.fields["to_user"].queryset = colleagues.order_by("username")


class BulkTransferForm(TransferForm):
    tasks = forms.ModelMultipleChoiceField(
        label=_("Tasks"), queryset=FollowUpTask.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["tasks"].queryset = FollowUpTask.objects.visible_to(user).pending()
        self.fields["to_user"].queryset = assignable_users(user)


class RescheduleForm(PlausibleDates, forms.Form):
    """A new date keeps the time of day (the calendar's drop); a full time replaces both."""

    date = forms.DateField(required=False)
    due_at = forms.DateTimeField(label=_("New due time"), required=False, widget=DATETIME_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("date") and not data.get("due_at"):
            raise ValidationError(_("Give the new date."))
        return data

    def new_due_at(self, task: FollowUpTask) -> datetime.datetime:
        if self.cleaned_data.get("due_at"):
            due: datetime.datetime = self.cleaned_data["due_at"]
            return due
        local = timezone.localtime(task.due_at)
        return local.replace(
            year=self.cleaned_data["date"].year,
            month=self.cleaned_data["date"].month,
            day=self.cleaned_data["date"].day,
        )
