"""Read-only admin for the import log and the export audit trail (SPEC §7): nobody edits history."""

from django.contrib import admin

from crm.core.admin import ReadOnlyAdmin
from customers.models import ExportLog, ExportRequest, ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "original_name",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "failed_count",
    ]
    list_filter = ["status", "on_duplicate", "created_at"]
    search_fields = ["original_name", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    exclude = ["file", "preview"]


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "row_count", "file_format", "masked", "query", "sha256"]
    list_filter = ["masked", "file_format", "created_at"]
    search_fields = ["user__username", "sha256", "query"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(ExportRequest)
class ExportRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "row_count", "file_format", "approved_at", "used_at"]
    list_filter = ["file_format", "created_at"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    exclude = ["token"]
