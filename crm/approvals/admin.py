from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from crm.approvals.models import ApprovalRequest


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(SimpleHistoryAdmin):
    list_display = ["summary", "action", "kind", "requester", "approver", "status", "created_at"]
    list_filter = ["status", "action", "kind", "created_at"]
    search_fields = ["summary", "requester__username", "approver__username"]
    list_select_related = ["requester", "approver"]
    raw_id_fields = ["requester", "approver", "decided_by"]
    date_hierarchy = "created_at"
