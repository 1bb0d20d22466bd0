from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core.dates import PlausibleDates
from customers.filters import CUSTOM_PREFIX, CustomerFilter
from customers.forms import custom_form_field, to_json_value
from opportunities.models import (
    Competitor,
    Instalment,
    LostReason,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityField,
    OpportunityLine,
    Order,
    Receipt,
    Stage,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OpportunityForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = [
            "name",
            "owner",
            "stage",
            "amount",
            "amount_from_lines",
            "expected_close_date",
            "source",
            "next_step",
        ]
        widgets = {"expected_close_date": DATE}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = CustomerFilter.owner_choices(user)
        self.fields["owner"].required = False
        self.fields["stage"].queryset = Stage.objects.filter(is_active=True, kind=Stage.Kind.OPEN)
        self.fields["stage"].required = False
        if self.instance.pk:
            # The stage moves through the board or the stage form, never by editing.
            del self.fields["stage"]
        self.custom_fields = list(OpportunityField.objects.filter(is_active=True))
        for definition in self.custom_fields:
            field = custom_form_field(definition)  # type: ignore[arg-type]
            stored = (self.instance.custom_data or {}).get(definition.key)
            if stored is not None:
                field.initial = stored
            self.fields[CUSTOM_PREFIX + definition.key] = field

    def model_fields(self) -> dict[str, Any]:
        """The cleaned values for the service: the model's fields plus ``custom_data``."""
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        data = dict(self.instance.custom_data or {})
        for definition in self.custom_fields:
            value = self.cleaned_data.get(CUSTOM_PREFIX + definition.key)
            if value in (None, ""):
                data.pop(definition.key, None)
            else:
                data[definition.key] = to_json_value(value)
        fields["custom_data"] = data
        return fields


class LineForm(forms.ModelForm):
    class Meta:
        model = OpportunityLine
        fields = ["product", "unit_price", "quantity"]


class CompetitorForm(forms.ModelForm):
    class Meta:
        model = Competitor
        fields = ["name", "strengths", "weaknesses"]
        widgets = {
            "strengths": forms.Textarea(attrs={"rows": 2}),
            "weaknesses": forms.Textarea(attrs={"rows": 2}),
        }


class ObjectionForm(forms.ModelForm):
    class Meta:
        model = Objection
        fields = ["type", "description", "solution", "customer_response", "resolved"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "solution": forms.Textarea(attrs={"rows": 2}),
            "customer_response": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = ObjectionType.objects.filter(is_active=True)


class ObjectionResolveForm(forms.ModelForm):
    class Meta:
        model = Objection
        fields = ["solution", "customer_response", "resolved"]
        widgets = {
            "solution": forms.Textarea(attrs={"rows": 2}),
            "customer_response": forms.Textarea(attrs={"rows": 2}),
        }


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none())
    lost_reason = forms.ModelChoiceField(
        label=_("Lost reason"), queryset=LostReason.objects.filter(is_active=True), required=False
    )
    lost_note = forms.CharField(
        label=_("Lost details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, stages: list[Stage] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = [stage.pk for stage in stages] if stages is not None else []
        queryset = Stage.objects.filter(is_active=True)
        self.fields["stage"].queryset = (
            queryset.filter(pk__in=allowed) if stages is not None else queryset
        )


class OrderForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = Order
        fields = ["number", "amount", "signed_on", "contract_ends_on", "notes"]
        widgets = {
            "signed_on": DATE,
            "contract_ends_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"number": _("Leave empty to number it automatically.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].required = False
        self.fields["signed_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        signed, ends = cleaned.get("signed_on"), cleaned.get("contract_ends_on")
        if signed and ends and ends < signed:
            self.add_error("contract_ends_on", _("The contract cannot end before it is signed."))
        return cleaned


class InstalmentForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = Instalment
        fields = ["due_date", "amount", "note"]
        widgets = {"due_date": DATE}


class ReceiptForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = Receipt
        fields = ["instalment", "amount", "received_on", "reference"]
        widgets = {"received_on": DATE}

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instalment = self.fields["instalment"]
        instalment.queryset = order.instalments.filter(paid_at__isnull=True)
        instalment.label_from_instance = lambda row: (
            f"{row.due_date:%Y-%m-%d} · ¥{row.amount:,.2f}{f' · {row.note}' if row.note else ''}"
        )
        self.fields["received_on"].initial = timezone.localdate()


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV")],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
