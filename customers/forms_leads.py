"""Forms of lead capture: the public web form and the JSON body of the lead API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.core.phones import validate_phone
from customers.models import DemandTag

MESSAGE_MAX_LENGTH = 2000


def demand_tags() -> QuerySet[DemandTag]:
    return DemandTag.objects.filter(is_active=True, kind=DemandTag.Kind.DEMAND)


class LeadForm(forms.Form):
    """What every lead carries. Subclasses add the tags in their own shape."""

    name = forms.CharField(
        label=_("Company or your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contact_name = forms.CharField(
        label=_("Contact name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    message = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def lead_fields(self) -> dict[str, Any]:
        """The cleaned data as ``lead_capture`` takes it."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "contact_name": data["contact_name"],
            "phone": data["phone"],
            "email": data["email"],
            "message": data["message"],
            "tags": list(data.get("tags") or []),
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Shows a service's ValidationError next to the field it names, or above the form."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class LeadCaptureForm(LeadForm):
    """The public form (官网表单). ``website`` is a honeypot: people never see it, bots fill it."""

    tags = forms.ModelMultipleChoiceField(
        label=_("What are you interested in?"),
        queryset=DemandTag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = demand_tags()  # type: ignore[attr-defined]

    def is_spam(self) -> bool:
        return bool(self.is_bound and str(self.data.get("website", "")).strip())


class JSONTextMixin:
    """JSON gives numbers, lists and null where text is due: refuse them rather than let
    ``str()`` turn ``[1]`` into a company called "[1]". null counts as absent."""

    def to_python(self, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValidationError(_("Enter text."), code="invalid_type")
        return super().to_python(value)  # type: ignore[misc]


class JSONCharField(JSONTextMixin, forms.CharField):
    pass


class JSONEmailField(JSONTextMixin, forms.EmailField):
    pass


class TagNamesField(forms.Field):
    """A list of active demand-tag names (采购设备, …). Unknown names are an error, so an
    integration that misspells one finds out instead of losing the tag silently."""

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise ValidationError(_("Give the tags as a list of tag names."), code="invalid_type")
        return [name.strip() for name in value]

    def clean(self, value: Any) -> list[DemandTag]:
        names = super().clean(value)
        # Matched in Python against the short dictionary: hostile text never reaches a query.
        known = {tag.name: tag for tag in demand_tags()}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValidationError(
                _("Unknown tags: %(names)s."),
                code="unknown_tag",
                params={"names": "、".join(name[:50] for name in unknown[:10])},
            )
        return list({known[name].pk: known[name] for name in names}.values())


class LeadApiForm(LeadForm):
    """The JSON body of ``POST /api/leads/``: the same fields, strict about JSON types."""

    name = JSONCharField(max_length=200)
    contact_name = JSONCharField(max_length=100, required=False)
    phone = JSONCharField(max_length=30, validators=[validate_phone])
    email = JSONEmailField(max_length=254, required=False)
    message = JSONCharField(max_length=MESSAGE_MAX_LENGTH, required=False)
    tags = TagNamesField(required=False)
