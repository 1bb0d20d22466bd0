from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    Collaborator,
    DelayExplanation,
    DeskSettings,
    QueueAgent,
    ServiceQueue,
    SLAPolicy,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketMessage,
)


class QueueAgentInline(admin.TabularInline):
    model = QueueAgent
    extra = 1
    raw_id_fields = ["user"]


@admin.register(ServiceQueue)
class ServiceQueueAdmin(admin.ModelAdmin):
    list_display = ["team", "mode", "last_assigned", "is_active"]
    list_editable = ["mode", "is_active"]
    list_select_related = ["team", "last_assigned"]
    raw_id_fields = ["team"]
    inlines = [QueueAgentInline]


class SubcategoryInline(admin.TabularInline):
    model = TicketCategory
    fk_name = "parent"
    extra = 0
    fields = ["name", "name_en", "queue", "default_priority", "sort_order", "is_active"]


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "queue", "default_priority", "sort_order", "is_active"]
    list_editable = ["queue", "default_priority", "sort_order", "is_active"]
    list_filter = ["parent", "is_active"]
    list_select_related = ["parent", "queue__team"]
    search_fields = ["name", "name_en"]
    inlines = [SubcategoryInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "category",
        "response_target",
        "response_unit",
        "resolution_target",
        "resolution_unit",
        "warn_before_minutes",
    ]
    list_filter = ["priority"]
    list_select_related = ["category__parent"]


@admin.register(DeskSettings)
class DeskSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "delay_explanation_after_days", "email_public_replies"]
    fields = ["delay_explanation_after_days", "email_public_replies", "related_settings"]
    readonly_fields = ["related_settings"]

    @admin.display(description=_("Related settings"))
    def related_settings(self, obj: DeskSettings) -> str:
        """The other pages that shape the desk: SLA clocks run on the business calendar."""
        links = [
            ("admin:tickets_workinghours_changelist", _("Working hours")),
            ("admin:tickets_calendarday_changelist", _("Holidays and make-up workdays")),
            ("admin:tickets_slapolicy_changelist", _("SLA policies")),
            ("admin:tickets_servicequeue_changelist", _("Service queues")),
            ("admin:tickets_ticketcategory_changelist", _("Ticket categories")),
        ]
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((reverse(name), label) for name, label in links),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DeskSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "actor", "from_status", "to_status", "note", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TicketMessageInline(admin.StackedInline):
    model = TicketMessage
    extra = 0
    readonly_fields = ["kind", "author", "author_name", "body", "created_at", "emailed_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CollaboratorInline(admin.TabularInline):
    model = Collaborator
    extra = 0
    raw_id_fields = ["user", "added_by"]


class DelayExplanationInline(admin.TabularInline):
    model = DelayExplanation
    extra = 0
    raw_id_fields = ["by"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """For inspection and repair; agents work tickets in the desk screens, which keep the log."""

    list_display = [
        "number",
        "subject",
        "category",
        "priority",
        "status",
        "assignee",
        "resolution_due",
        "created_at",
    ]
    list_filter = ["status", "priority", "channel", "queue"]
    list_select_related = ["category__parent", "assignee"]
    search_fields = ["number", "subject", "contact_name", "customer__name"]
    raw_id_fields = ["customer", "contact", "assignee", "created_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["number", "public_token", "first_responded_at", "resolved_at", "closed_at"]
    exclude = ["contact_phone"]
    inlines = [TicketEventInline, TicketMessageInline, CollaboratorInline, DelayExplanationInline]


# The calendar, mailboxes, inbound mail and surveys (tickets/admin_channels.py).
from tickets import admin_channels  # noqa: E402, F401
