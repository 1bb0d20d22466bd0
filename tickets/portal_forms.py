"""Forms of the public service portal and the surveys (no login)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.core.phones import validate_phone
from tickets.forms import MultipleFileField
from tickets.models import Survey, TicketCategory

MAX_FILES = 5
DESCRIPTION_MAX_LENGTH = 5000


def category_choices() -> list[tuple[Any, Any]]:
    """Second-level categories grouped under their first level (投诉 → 服务质量类 …); a first
    level without children is offered on its own."""
    categories = list(TicketCategory.objects.filter(is_active=True).select_related("parent"))
    children: dict[int, list[TicketCategory]] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)
    choices: list[tuple[Any, Any]] = [("", _("Choose what it is about"))]
    for category in categories:
        if category.parent_id:
            continue
        kids = children.get(category.pk)
        if kids:
            choices.append((category.label, [(kid.pk, kid.label) for kid in kids]))
        else:
            choices.append((category.pk, category.label))
    return choices


class HoneypotMixin:
    """``website`` is a honeypot: people never see it, bots fill it."""

    def is_spam(self) -> bool:
        data = getattr(self, "data", {})
        return bool(getattr(self, "is_bound", False) and str(data.get("website", "")).strip())


class PortalFilesField(MultipleFileField):
    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise ValidationError(
                _("Attach at most %(count)s files."), params={"count": MAX_FILES}, code="too_many"
            )
        return super().clean(data, initial)


class PortalRequestForm(HoneypotMixin, forms.Form):
    """A consultation, complaint or suggestion from a customer (服务通道)."""

    category = forms.TypedChoiceField(label=_("Type of request"), coerce=int)
    description = forms.CharField(
        label=_("Describe your request"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    contact_name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        required=False,
        help_text=_("We send our replies and the result here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    attachments = PortalFilesField(
        label=_("Attachments"),
        required=False,
        help_text=_("Up to 5 files: PDF, images, Office documents, text, audio or video."),
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]

    def clean_category(self) -> TicketCategory:
        category = TicketCategory.objects.filter(
            pk=self.cleaned_data["category"], is_active=True
        ).first()
        if category is None:
            raise ValidationError(_("Choose what your request is about."), code="invalid")
        return category

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("contact_phone")
            and not data.get("contact_email")
            and not (self.has_error("contact_phone") or self.has_error("contact_email"))
        ):
            raise ValidationError(
                _("Give a phone number or an email address so that we can reach you."),
                code="no_contact",
            )
        return data


class PortalMessageForm(HoneypotMixin, forms.Form):
    """The customer adds information on their status page."""

    body = forms.CharField(
        label=_("Add information"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = PortalFilesField(label=_("Attachments"), required=False)
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1"}))


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["score"]
        if survey.kind == Survey.Kind.CSAT:
            field.label = _("How satisfied are you with how we handled your request?")
            field.error_messages["required"] = _("Choose from 1 to 5 stars.")
        else:
            field.label = _("How likely are you to recommend us to a friend or colleague?")
            field.error_messages["required"] = _("Choose a score from 0 to 10.")
            self.fields["comment"].label = _("What is the main reason for your score?")
        field.error_messages["invalid_choice"] = field.error_messages["required"]
        field.choices = [(value, str(value)) for value in survey.scale]  # type: ignore[attr-defined]
