import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core.attachments import validate_upload
from crm.core.choices import use_cached_choices
from crm.core.dates import PlausibleDates, validate_year
from crm.core.phones import validate_phone
from customers.models import Contact, Customer, CustomerLevel, CustomField, DemandTag, SavedView

CUSTOM_PREFIX = "cf_"


def custom_form_field(definition: CustomField) -> forms.Field:
    common: dict[str, Any] = {"label": definition.display_label, "required": definition.required}
    if definition.type == CustomField.Type.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if definition.type == CustomField.Type.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}), validators=[validate_year], **common
        )
    if definition.type == CustomField.Type.CHOICE:
        options = [("", "---------"), *[(option, option) for option in definition.option_list()]]
        return forms.ChoiceField(choices=options, **common)
    return forms.CharField(max_length=500, **common)


def to_json_value(value: Any) -> Any:
    """Custom values as JSON: numbers stay numbers (so filters can compare), dates ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class CustomerForm(PlausibleDates, forms.ModelForm):
    """The customer's own fields, its admin-defined custom fields and, on create, the first
    contact. Duplicates are checked by the view (it knows the user)."""

    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Title / position"), max_length=100, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=30, required=False, validators=[validate_phone]
    )
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    allow_duplicate = forms.BooleanField(
        label=_("I checked the matching records: save anyway"), required=False
    )
    change_reason = forms.CharField(
        label=_("Reason for key-field changes"),
        required=False,
        max_length=500,
        help_text=_(
            "Changes of owner, level or annual amount by a rep need the team head's approval."
        ),
    )

    class Meta:
        model = Customer
        fields = [
            "name",
            "type",
            "category",
            "industry",
            "scale",
            "employee_range",
            "revenue_range",
            "region",
            "province",
            "city",
            "district",
            "address",
            "source",
            "tags",
            "first_contact_at",
            "budget_min",
            "budget_max",
            "level",
            "annual_amount",
            "owner",
            "notes",
        ]
        widgets = {
            "first_contact_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "address": forms.TextInput(),
            "tags": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["tags"].queryset = DemandTag.objects.filter(is_active=True)
        self.fields["level"].queryset = CustomerLevel.objects.filter(is_active=True)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["owner"].required = False
        self.fields["industry"].queryset = self.fields["industry"].queryset.select_related("parent")
        self.fields["address"].required = False
        if self.instance.pk:
            for name in ("contact_name", "contact_title", "contact_phone", "contact_email"):
                del self.fields[name]
        else:
            # Nothing to approve on a new customer; the page has no such field to show errors on.
            del self.fields["change_reason"]
        self.custom_fields = list(CustomField.objects.filter(is_active=True))
        for definition in self.custom_fields:
            field = custom_form_field(definition)
            stored = (self.instance.custom_data or {}).get(definition.key)
            if stored is not None:
                field.initial = stored
            self.fields[CUSTOM_PREFIX + definition.key] = field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("budget_min"), cleaned.get("budget_max")
        if low is not None and high is not None and low > high:
            self.add_error("budget_max", _("The upper budget must not be below the lower one."))
        province, region = cleaned.get("province"), cleaned.get("region")
        if province and region and province.region_id != region.pk:
            self.add_error("province", _("This province is not in the chosen region."))
        if province and not region:
            cleaned["region"] = province.region
        if (
            not self.instance.pk
            and cleaned.get("contact_phone")
            and not cleaned.get("contact_name")
        ):
            self.add_error("contact_name", _("Give the name of the contact whose phone this is."))
        return cleaned

    def custom_data(self) -> dict[str, Any]:
        data = dict(self.instance.custom_data or {})
        for definition in self.custom_fields:
            value = self.cleaned_data.get(CUSTOM_PREFIX + definition.key)
            if value in (None, ""):
                data.pop(definition.key, None)
            else:
                data[definition.key] = to_json_value(value)
        return data

    def model_changes(self) -> dict[str, Any]:
        changes = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name in self.cleaned_data and name != "tags"
        }
        changes["custom_data"] = self.custom_data()
        return changes

    def first_contact(self) -> list[dict[str, Any]]:
        if self.instance.pk or not self.cleaned_data.get("contact_name"):
            return []
        return [
            {
                "name": self.cleaned_data["contact_name"],
                "title": self.cleaned_data.get("contact_title", ""),
                "phone": self.cleaned_data.get("contact_phone", ""),
                "email": self.cleaned_data.get("contact_email", ""),
            }
        ]


class ContactForm(PlausibleDates, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "phone", "email", "decision_role", "birthday", "is_primary"]
        widgets = {"birthday": forms.DateInput(attrs={"type": "date"})}


class DeleteRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why should this customer be deleted?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        validate_upload(upload)
        return upload


class BulkActionForm(forms.Form):
    class Action:
        REASSIGN = "reassign"
        TAG = "tag"
        LEVEL = "level"

    ACTIONS = [
        (Action.REASSIGN, _("Reassign owner")),
        (Action.TAG, _("Add a tag")),
        (Action.LEVEL, _("Change level")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    customers = forms.ModelMultipleChoiceField(queryset=Customer.objects.none())
    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.none(), required=False
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"), queryset=DemandTag.objects.filter(is_active=True), required=False
    )
    level = forms.ModelChoiceField(
        label=_("Level"), queryset=CustomerLevel.objects.filter(is_active=True), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Customer.objects.visible_to(user)
        self.fields["owner"].queryset = User.objects.filter(is_active=True)
        use_cached_choices(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        needed = {self.Action.REASSIGN: "owner", self.Action.TAG: "tag", self.Action.LEVEL: "level"}
        field = needed.get(cleaned.get("action", ""))
        if field and not cleaned.get(field):
            self.add_error(field, _("Choose a value for this action."))
        return cleaned


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "query"]
        widgets = {"query": forms.HiddenInput}

    def clean_query(self) -> str:
        query = self.cleaned_data["query"].lstrip("?")
        if len(query) > 1000:
            raise ValidationError(_("This filter is too long to save."))
        return query


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from customers.filters import CustomerFilter

        self.fields["owner"].queryset = CustomerFilter.owner_choices(user)
