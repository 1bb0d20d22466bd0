from django.contrib import admin

from crm.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "verb", "created_at", "read_at", "emailed_at"]
    list_filter = ["verb", "created_at", "read_at"]
    search_fields = ["title", "recipient__username", "recipient__last_name"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient", "actor"]
    date_hierarchy = "created_at"
