from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from followups.models import (
    Commitment,
    FollowUpMethod,
    FollowUpPlan,
    FollowUpRecord,
    FollowUpTask,
    TaskTemplate,
    TaskTransfer,
)


@admin.register(FollowUpMethod)
class FollowUpMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en", "code"]


@admin.register(TaskTemplate)
class TaskTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "method", "is_active"]
    list_filter = ["is_active", "method"]
    search_fields = ["name", "content"]


@admin.register(FollowUpPlan)
class FollowUpPlanAdmin(SimpleHistoryAdmin):
    list_display = ["customer", "stage", "cadence", "owner", "starts_on", "ends_on", "is_active"]
    list_filter = ["stage", "cadence", "is_active"]
    search_fields = ["customer__name", "customer__number", "owner__username"]
    raw_id_fields = ["customer", "owner", "created_by"]
    date_hierarchy = "starts_on"


class TransferInline(admin.TabularInline):
    model = TaskTransfer
    extra = 0
    raw_id_fields = ["from_user", "to_user", "by"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(SimpleHistoryAdmin):
    list_display = ["title", "customer", "owner", "kind", "due_at", "status"]
    list_filter = ["status", "kind", "method"]
    search_fields = ["title", "customer__name", "customer__number", "owner__username"]
    raw_id_fields = ["customer", "plan", "owner"]
    date_hierarchy = "due_at"
    list_select_related = ["customer", "owner"]
    inlines = [TransferInline]


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    raw_id_fields = ["task"]


@admin.register(FollowUpRecord)
class FollowUpRecordAdmin(SimpleHistoryAdmin):
    list_display = ["topic", "customer", "owner", "method", "occurred_at", "next_step_at"]
    list_filter = ["method"]
    search_fields = ["topic", "summary", "customer__name", "customer__number"]
    raw_id_fields = ["customer", "task", "owner"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer", "owner", "method"]
    inlines = [CommitmentInline]
