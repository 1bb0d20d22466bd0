import hashlib
import secrets

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.core.phones import mask_address, mask_phone
from customers.models import (
    Contact,
    Customer,
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    CustomField,
    DemandTag,
    Industry,
    LeadInquiry,
    LeadSource,
    RevealLog,
    SavedView,
    SourceChannel,
    Territory,
    TierSettings,
)


class DictionaryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en"]
    list_filter = ["is_active"]


@admin.register(CustomerCategory)
class CustomerCategoryAdmin(DictionaryAdmin):
    list_display = [*DictionaryAdmin.list_display, "default_owner"]
    autocomplete_fields = ["default_owner"]


@admin.register(Industry)
class IndustryAdmin(DictionaryAdmin):
    list_display = ["code", "name", "name_en", "parent", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]


@admin.register(CustomerScale)
class CustomerScaleAdmin(DictionaryAdmin):
    pass


@admin.register(DemandTag)
class DemandTagAdmin(DictionaryAdmin):
    list_display = [*DictionaryAdmin.list_display, "kind"]
    list_filter = ["kind", "is_active"]


@admin.register(SourceChannel)
class SourceChannelAdmin(DictionaryAdmin):
    list_display = ["code", *DictionaryAdmin.list_display]
    filter_horizontal = ["default_tags"]


@admin.register(CustomerLevel)
class CustomerLevelAdmin(DictionaryAdmin):
    pass


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "type", "required", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["type", "required", "is_active"]
    search_fields = ["label", "label_en", "key"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "masked_phone", "email", "decision_role", "is_primary"]
    readonly_fields = ["masked_phone"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Contact) -> str:
        return mask_phone(obj.phone)


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["number", "name", "type", "status", "owner", "category", "region", "created_at"]
    list_filter = [
        "type",
        "status",
        "lifecycle",
        "value_tier",
        "activity_tier",
        "category",
        "source",
        "region",
    ]
    search_fields = ["number", "name", "name_pinyin", "name_initials"]
    list_select_related = ["owner", "category", "region"]
    autocomplete_fields = ["owner", "industry"]
    raw_id_fields = ["shared_with"]
    readonly_fields = ["number", "masked_address", "created_by", "created_at"]
    exclude = ["address"]
    date_hierarchy = "created_at"
    inlines = [ContactInline]

    @admin.display(description=_("address"))
    def masked_address(self, obj: Customer) -> str:
        return mask_address(obj.address)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers are created in the app, where numbering and checks run

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # deletion goes through a sales manager's approval


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "key_prefix", "is_active", "created_at"]
    list_filter = ["channel", "is_active"]
    readonly_fields = ["key_prefix", "created_at"]

    def save_model(self, request, obj: LeadSource, form, change) -> None:  # type: ignore[no-untyped-def]
        if not change:
            key = secrets.token_urlsafe(32)
            obj.api_key_hash = hashlib.sha256(key.encode()).hexdigest()
            obj.key_prefix = key[:8]
            messages.warning(
                request,
                _("The API key of %(name)s is %(key)s — copy it now, it is not shown again.")
                % {"name": obj.name, "key": key},
            )
        super().save_model(request, obj, form, change)


@admin.register(LeadInquiry)
class LeadInquiryAdmin(admin.ModelAdmin):
    list_display = ["customer", "source", "contact_name", "created_new", "captured_at"]
    list_filter = ["source", "created_new"]
    raw_id_fields = ["customer"]
    date_hierarchy = "captured_at"


@admin.register(RevealLog)
class RevealLogAdmin(admin.ModelAdmin):
    list_display = ["revealed_at", "user", "customer", "field"]
    list_filter = ["field", "revealed_at"]
    search_fields = ["user__username", "customer__number", "customer__name"]
    list_select_related = ["user", "customer"]
    date_hierarchy = "revealed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query"]
    raw_id_fields = ["user"]


@admin.register(TierSettings)
class TierSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "high_value_from", "medium_value_from", "lost_after_months"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TierSettings.objects.exists()


# Import jobs and the export log, read-only (customers/admin_transfer.py).
from customers import admin_transfer  # noqa: E402, F401


# The territory table (region × industry → user or team) that the "assign an owner" rule reads.
@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["region", "industry", "user", "team"]
    list_filter = ["region", ("team", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["region__name", "region__code", "industry__name", "industry__code"]
    autocomplete_fields = ["region", "industry", "user", "team"]
    list_select_related = ["region", "industry__parent", "user", "team"]
