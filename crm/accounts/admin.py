from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.accounts.models import Leave, Province, Region, Team, User


class ProvinceInline(admin.TabularInline):
    model = Province
    extra = 0


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "sort_order"]
    search_fields = ["code", "name", "name_en"]
    inlines = [ProvinceInline]


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "region"]
    list_filter = ["region"]
    search_fields = ["name", "name_en"]


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "parent", "head", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["name"]
    list_select_related = ["parent", "head", "region"]
    autocomplete_fields = ["parent", "head"]


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "team",
        "region",
        "role_list",
        "expires_on",
        "is_active",
    ]
    list_filter = ["is_active", "groups", "team", "region", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["team", "region"]
    autocomplete_fields = ["team"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Organisation"), {"fields": ("team", "region", "phone", "expires_on", "language")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Organisation"), {"fields": ("team", "region", "expires_on")}),
    )

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())

    def save_model(self, request, obj: User, form, change) -> None:  # type: ignore[no-untyped-def]
        if "phone" in form.changed_data:
            obj.set_phone(form.cleaned_data["phone"])
        super().save_model(request, obj, form, change)


@admin.register(Leave)
class LeaveAdmin(SimpleHistoryAdmin):
    list_display = ["user", "starts_on", "ends_on", "backup", "reason"]
    list_filter = ["starts_on"]
    search_fields = ["user__username", "user__last_name", "backup__username"]
    autocomplete_fields = ["user", "backup"]
    list_select_related = ["user", "backup"]
    date_hierarchy = "starts_on"
