from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from opportunities.models import (
    Competitor,
    ExportLog,
    Instalment,
    LostReason,
    Objection,
    ObjectionType,
    Opportunity,
    OpportunityField,
    OpportunityLine,
    Order,
    OrderLine,
    Receipt,
    SalesTarget,
    Stage,
    StageTaskTemplate,
    StageVisit,
)


class StageTaskTemplateInline(admin.TabularInline):
    model = StageTaskTemplate
    extra = 1


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "name_en",
        "code",
        "kind",
        "probability",
        "forecast_category",
        "stale_after_days",
        "sort_order",
        "is_active",
    ]
    list_editable = ["probability", "forecast_category", "stale_after_days", "sort_order"]
    search_fields = ["name", "name_en", "code"]
    inlines = [StageTaskTemplateInline]


@admin.register(LostReason, ObjectionType)
class DictionaryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en", "code"]


@admin.register(OpportunityField)
class OpportunityFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "label_en", "key", "type", "required", "sort_order", "is_active"]
    list_editable = ["required", "sort_order", "is_active"]
    search_fields = ["label", "label_en", "key"]


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ["month", "team", "owner", "amount"]
    list_filter = ["team"]
    raw_id_fields = ["owner"]
    date_hierarchy = "month"


class LineInline(admin.TabularInline):
    model = OpportunityLine
    extra = 0


class CompetitorInline(admin.StackedInline):
    model = Competitor
    extra = 0


class StageVisitInline(admin.TabularInline):
    model = StageVisit
    fk_name = "opportunity"
    extra = 0
    readonly_fields = ["stage", "from_stage", "entered_at", "left_at", "by", "stale_reminded_at"]
    can_delete = False


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "customer", "owner", "stage", "amount", "expected_close_date"]
    list_filter = ["stage", "source"]
    search_fields = ["name", "customer__name", "customer__number", "owner__username"]
    raw_id_fields = ["customer", "owner", "created_by"]
    date_hierarchy = "expected_close_date"
    # The stage changes through the pipeline's service (history, milestones, events).
    readonly_fields = ["stage", "stage_entered_at", "closed_at", "lost_reason"]
    inlines = [LineInline, CompetitorInline, StageVisitInline]


@admin.register(Objection)
class ObjectionAdmin(admin.ModelAdmin):
    list_display = ["opportunity", "type", "resolved", "created_at"]
    list_filter = ["type", "resolved"]
    raw_id_fields = ["opportunity", "recorded_by"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    readonly_fields = ["paid_at"]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = ["number", "customer", "owner", "amount", "signed_on", "contract_ends_on"]
    search_fields = ["number", "customer__name"]
    raw_id_fields = ["opportunity", "customer", "owner", "created_by"]
    date_hierarchy = "signed_on"
    inlines = [OrderLineInline, InstalmentInline]


@admin.register(Receipt)
class ReceiptAdmin(SimpleHistoryAdmin):
    list_display = ["order", "instalment", "amount", "received_on", "recorded_by"]
    raw_id_fields = ["order", "instalment", "recorded_by"]
    date_hierarchy = "received_on"


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "file_format", "row_count", "query"]
    readonly_fields = ["user", "created_at", "file_format", "row_count", "query"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
