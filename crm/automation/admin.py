import datetime

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.automation import services
from crm.automation.forms import (
    ActionForm,
    ActionFormSet,
    ConditionForm,
    ConditionFormSet,
    RuleForm,
    TryRuleForm,
)
from crm.automation.models import (
    Action,
    AutomationSettings,
    Condition,
    MessageTemplate,
    Rule,
    RuleRun,
)


class ConditionInline(admin.TabularInline):
    model = Condition
    form = ConditionForm
    formset = ConditionFormSet
    extra = 0


class ActionInline(admin.StackedInline):
    model = Action
    form = ActionForm
    formset = ActionFormSet
    extra = 0
    autocomplete_fields = ["user", "team"]
    fieldsets = (
        (None, {"fields": (("order", "type"),)}),
        (
            _("Settings (those the action uses)"),
            {
                "fields": (
                    ("mode", "user", "team"),
                    ("recipients", "role", "template"),
                    ("hours", "field", "value"),
                )
            },
        ),
    )


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin):
    form = RuleForm
    list_display = [
        "name",
        "trigger",
        "delay_hours",
        "order",
        "is_active",
        "stop_after_match",
        "try_link",
    ]
    list_editable = ["order", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name", "description"]
    inlines = [ConditionInline, ActionInline]

    @admin.display(description=_("try it"))
    def try_link(self, obj: Rule) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:automation_rule_try", args=[obj.pk]), _("Try it")
        )

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path(
                "<int:pk>/try/",
                self.admin_site.admin_view(self.try_view),
                name="automation_rule_try",
            ),
            path(
                "health/",
                self.admin_site.admin_view(self.health_view),
                name="automation_rule_health",
            ),
            *super().get_urls(),
        ]

    def try_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Pick a record: see whether the rule matches and what it would do. Changes nothing."""
        rule = get_object_or_404(Rule.objects.prefetch_related("conditions", "actions"), pk=pk)
        form = TryRuleForm(request.POST or None, rule=rule)
        outcome = None
        if request.method == "POST" and form.is_valid():
            outcome = services.rule_try(rule=rule, record=form.cleaned_data["record"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rule": rule,
            "form": form,
            "outcome": outcome,
            "title": _("Try rule “%(name)s”") % {"name": rule.name},
        }
        return render(request, "admin/automation/rule_try.html", context)

    def health_view(self, request: HttpRequest) -> HttpResponse:
        days = 14
        since = timezone.now() - datetime.timedelta(days=days)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rows": services.health(since=since),
            "days": days,
            "threshold": AutomationSettings.load().assignment_failure_threshold,
            "title": _("Automation health"),
        }
        return render(request, "admin/automation/health.html", context)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "subject"]
    search_fields = ["code", "subject", "body"]


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "rule",
        "content_type",
        "object_id",
        "status",
        "duration_ms",
        "error",
    ]
    list_filter = ["status", "rule", "assignment_failed", "created_at"]
    search_fields = ["error", "object_id"]
    list_select_related = ["rule", "content_type"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in RuleRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AutomationSettings)
class AutomationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "assignment_failure_threshold"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not AutomationSettings.objects.exists()
