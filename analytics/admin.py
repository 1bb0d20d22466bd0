from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from analytics.models import ActionPlan, ActionPlanSettings, ChannelSpend, ExportLog, ExportRequest
from crm.core.admin import ReadOnlyAdmin


@admin.register(ActionPlan)
class ActionPlanAdmin(SimpleHistoryAdmin):
    list_display = ["title", "owner", "team", "due_on", "status", "meeting", "metric"]
    list_filter = ["status", "team", "due_on"]
    search_fields = ["title", "description", "meeting", "owner__username"]
    list_select_related = ["owner", "team"]
    raw_id_fields = ["owner", "created_by"]
    date_hierarchy = "due_on"


@admin.register(ActionPlanSettings)
class ActionPlanSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "remind_days_before"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ActionPlanSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ChannelSpend)
class ChannelSpendAdmin(admin.ModelAdmin):
    list_display = ["month", "channel", "amount", "note"]
    list_filter = ["channel", "month"]
    list_select_related = ["channel"]
    date_hierarchy = "month"


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "what",
        "row_count",
        "file_format",
        "contact_data",
        "sha256",
    ]
    list_filter = ["contact_data", "file_format", "created_at"]
    search_fields = ["user__username", "what", "sha256", "query"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(ExportRequest)
class ExportRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "dataset",
        "row_count",
        "file_format",
        "approved_at",
        "used_at",
    ]
    list_filter = ["dataset", "file_format", "created_at"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    exclude = ["token"]
