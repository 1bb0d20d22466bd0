from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.core.models import Attachment, CompanySettings, DailySequence, Heartbeat

admin.site.site_header = _("CRM administration")
admin.site.site_title = _("CRM administration")
admin.site.index_title = _("Dictionaries, rules, users and settings")


class ReadOnlyAdmin(admin.ModelAdmin):
    """For audit trails (import and export logs): nobody edits history."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CompanySettings)
class CompanySettingsAdmin(SimpleHistoryAdmin):
    list_display = ["name", "time_zone", "currency", "date_format", "retention_years"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not CompanySettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
        # A singleton: go straight to its form.
        company = CompanySettings.load()
        return HttpResponseRedirect(reverse("admin:core_companysettings_change", args=[company.pk]))


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "content_type",
        "object_id",
        "mime_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["content_type", "mime_type", "uploaded_at"]
    search_fields = ["original_name", "sha256"]
    list_select_related = ["content_type", "uploaded_by"]
    readonly_fields = [
        "content_type",
        "object_id",
        "file",
        "mime_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DailySequence)
class DailySequenceAdmin(admin.ModelAdmin):
    list_display = ["prefix", "day", "last_value"]
    list_filter = ["prefix"]
    date_hierarchy = "day"

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # numbers must never be handed out twice

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
