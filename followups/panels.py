"""Follow-ups on the customer page and on the home page; each panel runs a fixed number of
queries whatever the data size."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from crm.accounts.models import User
from crm.core.home import HomePanel
from crm.core.home import register as register_home
from crm.core.models import Attachment
from customers.models import Customer
from customers.panels import Panel
from customers.panels import register as register_customer_panel
from followups.models import Commitment, FollowUpRecord, FollowUpTask
from followups.navigation import follows_up
from followups.services import day_bounds

PANEL_ROWS = 20


def customer_panel(customer: Customer, user: User) -> dict[str, Any]:
    records = list(
        FollowUpRecord.objects.filter(customer=customer)
        .select_related("owner", "method")
        .prefetch_related(Prefetch("commitments", queryset=Commitment.objects.all()))[:PANEL_ROWS]
    )
    files: dict[int, list[Attachment]] = {}
    if records:
        for attachment in Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(FollowUpRecord),
            object_id__in=[record.pk for record in records],
        ):
            files.setdefault(attachment.object_id, []).append(attachment)
    for record in records:
        record.files = files.get(record.pk, [])  # type: ignore[attr-defined]
    return {
        "customer": customer,
        "plans": customer.follow_up_plans.select_related("owner", "method")[:PANEL_ROWS],
        "tasks": customer.follow_up_tasks.pending().select_related("owner", "method")[:PANEL_ROWS],
        "records": records,
        "now": timezone.now(),
        "can_change": not user.visibility.read_only,
    }


def home_panel(user: User) -> dict[str, Any]:
    now = timezone.now()
    _start, end_of_today = day_bounds(now)
    due = FollowUpTask.objects.filter(owner=user).pending().filter(due_at__lt=end_of_today)
    counts = due.aggregate(count=Count("id"), overdue_count=Count("id", filter=Q(due_at__lt=now)))
    return {"tasks": due.select_related("customer", "method")[:10], "now": now, **counts}


register_customer_panel(Panel("followups", 10, "followups/panels/customer.html", customer_panel))
register_home(HomePanel("followups", 5, "followups/panels/home_tasks.html", home_panel, follows_up))
