from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import User
from crm.core.attachments import validate_upload
from crm.core.dates import PlausibleDates
from crm.core.inputs import as_pk
from crm.core.phones import validate_phone
from customers.models import Contact, Customer
from tickets.models import Priority, Ticket, TicketCategory, TicketMessage

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
STAFF_CHANNELS = [
    (value, label) for value, label in Ticket.Channel.choices if value != Ticket.Channel.PORTAL
]


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


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TicketCategory) -> str:
        return str(obj)


def active_categories() -> Any:
    return TicketCategory.objects.filter(is_active=True).select_related("parent")


class IntakeForm(forms.Form):
    """An agent logs a ticket for a caller: a customer from the archive and one of its contacts,
    or a new contact typed in (saved to the customer when one is chosen)."""

    customer = forms.ModelChoiceField(
        Customer.objects.all(), required=False, widget=forms.HiddenInput
    )
    contact = forms.ModelChoiceField(
        Contact.objects.none(), required=False, label=_("Contact"), empty_label=_("New contact")
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"), max_length=30, required=False, validators=[validate_phone]
    )
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS)
    category = CategoryChoiceField(active_categories(), label=_("Category"))
    priority = forms.ChoiceField(
        label=_("Priority"),
        choices=[("", _("The category's default")), *Priority.choices],
        required=False,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer_id = as_pk(self.data.get("customer") or self.initial.get("customer"))
        if customer_id is not None:
            self.fields["contact"].queryset = Contact.objects.filter(customer_id=customer_id)
        self.fields["category"].queryset = active_categories()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contact = data.get("contact")
        customer = data.get("customer")
        if contact is not None and customer is not None and contact.customer_id != customer.pk:
            self.add_error("contact", _("This contact belongs to another customer."))
        if contact is None and not data.get("contact_name"):
            self.add_error("contact_name", _("Choose a contact or type the caller's name."))
        return data


class MessageForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (TicketMessage.Kind.REPLY, _("Public reply (the customer sees it)")),
            (TicketMessage.Kind.NOTE, _("Internal note")),
        ],
        widget=forms.RadioSelect,
        initial=TicketMessage.Kind.REPLY,
    )
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label=_("Attachments"), required=False)


class MoveForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)


def service_staff() -> Any:
    from crm.accounts.roles import Role

    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__name__in=[Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR])
            | Q(queue_memberships__isnull=False)
        )
        .distinct()
        .order_by("username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AssignForm(forms.Form):
    assignee = UserChoiceField(service_staff(), label=_("Assign to"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = service_staff()


class BulkAssignForm(AssignForm):
    tickets = forms.ModelMultipleChoiceField(
        Ticket.objects.none(),
        error_messages={"required": _("Select at least one ticket.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tickets"].queryset = Ticket.objects.visible_to(user).open()


class CollaboratorForm(PlausibleDates, forms.Form):
    user = UserChoiceField(
        User.objects.filter(is_active=True).order_by("username"), label=_("Collaborator")
    )
    task = forms.CharField(label=_("Their task"), max_length=300)
    due_at = forms.DateTimeField(label=_("Deadline"), widget=DATETIME_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")

    def clean_due_at(self) -> datetime.datetime:
        due_at = self.cleaned_data["due_at"]
        if due_at <= timezone.now():
            raise ValidationError(_("The deadline must be in the future."))
        return due_at


class DelayExplanationForm(PlausibleDates, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    new_date = forms.DateField(label=_("New date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_new_date(self) -> datetime.date:
        new_date = self.cleaned_data["new_date"]
        if new_date < timezone.localdate():
            raise ValidationError(_("The new date cannot be in the past."))
        return new_date
