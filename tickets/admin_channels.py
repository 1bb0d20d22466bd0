"""Admin for the business calendar, the service mailboxes, inbound mail and surveys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tickets import calendar
from tickets.models import CalendarDay, InboundEmail, Mailbox, Survey, SurveySettings, WorkingHours


class SingletonAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return not self.model.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkingHours)
class WorkingHoursAdmin(SingletonAdmin):
    list_display = ["__str__", "updated_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind", "date"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        from django.contrib import messages
        from django.utils import timezone

        year = timezone.localdate().year + 1
        if not calendar.year_has_data(year):
            messages.warning(
                request,
                _(
                    "The calendar has no holidays for %(year)s: enter the State Council's "
                    "holidays and make-up workdays here, or SLA clocks skip weekends only."
                )
                % {"year": year},
            )
        return super().changelist_view(request, extra_context)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        from django.core.cache import cache

        from tickets.models.calendar import CALENDAR_CACHE_KEY

        super().delete_queryset(request, queryset)
        cache.delete(CALENDAR_CACHE_KEY)


class MailboxForm(forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current password."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "host",
            "port",
            "use_ssl",
            "username",
            "password",
            "folder",
            "address",
            "category",
            "is_active",
        ]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not password and self.instance.pk:
            return self.instance.password
        if not password:
            raise forms.ValidationError(_("Enter the mailbox password."))
        return password


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "host", "username", "folder", "is_active", "last_checked_at"]
    list_filter = ["is_active"]
    readonly_fields = ["last_checked_at", "last_error"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_email", "subject", "outcome", "ticket", "mailbox"]
    list_filter = ["outcome", "mailbox"]
    search_fields = ["from_email", "subject", "message_id", "ticket__number"]
    list_select_related = ["ticket", "mailbox"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SurveySettings)
class SurveySettingsAdmin(SingletonAdmin):
    list_display = ["__str__", "csat_valid_days", "nps_delay_days", "low_csat_max", "low_nps_max"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient_name",
        "ticket",
        "customer",
        "score",
        "sent_at",
    ]
    list_filter = ["kind", "score"]
    search_fields = ["recipient_name", "email", "ticket__number", "customer__name"]
    list_select_related = ["ticket", "customer"]
    date_hierarchy = "created_at"
    exclude = ["token"]
    readonly_fields = [
        "kind",
        "ticket",
        "customer",
        "contact",
        "recipient_name",
        "email",
        "agent",
        "department",
        "source_event",
        "send_after",
        "sent_at",
        "expires_at",
        "score",
        "comment",
        "answered_at",
        "followup_task",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
