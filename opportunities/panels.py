"""The pipeline on the customer page and on the home page; each panel runs a fixed number of
queries whatever the data size."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone
from django.utils.translation import get_language

from crm.accounts.models import User
from crm.core.home import HomePanel
from crm.core.home import register as register_home
from customers.models import Customer
from customers.panels import Panel
from customers.panels import register as register_customer_panel
from opportunities.models import Opportunity, Order
from opportunities.models.pipeline import MONEY
from opportunities.navigation import sees_pipeline

PANEL_ROWS = 10


def customer_panel(customer: Customer, user: User) -> dict[str, Any]:
    opportunities = (
        Opportunity.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("stage", "owner")
        .order_by("-created_at")[:PANEL_ROWS]
    )
    orders = (
        Order.objects.visible_to(user)
        .filter(customer=customer)
        .with_payments(timezone.localdate())
        .order_by("-signed_on")[:PANEL_ROWS]
    )
    return {"customer": customer, "opportunities": opportunities, "orders": orders}


def home_panel(user: User) -> dict[str, Any]:
    """My open pipeline by stage: count, amount and weighted amount."""
    rows = (
        Opportunity.objects.filter(owner=user)
        .open()
        .values("stage__name", "stage__name_en", "stage__sort_order")
        .annotate(
            count=Count("id"),
            total=Sum("amount"),
            weighted=Sum(
                ExpressionWrapper(
                    F("amount") * F("stage__probability") / 100,
                    output_field=DecimalField(**MONEY),
                )
            ),
        )
        .order_by("stage__sort_order")
    )
    english = (get_language() or "").startswith("en")
    stages = [
        {
            **row,
            "label": row["stage__name_en"]
            if english and row["stage__name_en"]
            else row["stage__name"],
        }
        for row in rows
    ]
    return {
        "stages": stages,
        "total": sum((row["total"] for row in stages), 0),
        "weighted": sum((row["weighted"] for row in stages), 0),
    }


register_customer_panel(
    Panel("opportunities", 20, "opportunities/panels/customer.html", customer_panel)
)
register_home(
    HomePanel("opportunities", 15, "opportunities/panels/home.html", home_panel, sees_pipeline)
)
