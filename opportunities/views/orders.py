"""Orders and payments: recording the order (which wins the opportunity), the order page with
its payment plan and receipts, and the finance view."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.visibility import ensure_may_change, get_visible_or_404
from opportunities import services
from opportunities.forms import InstalmentForm, OrderForm, ReceiptForm
from opportunities.models import Instalment, Opportunity, Order, Receipt

PAGE_SIZE = 25
ZERO = Decimal(0)


@login_required
def order_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Records the signed order: the opportunity is won and the customer becomes 成交客户."""
    opportunity = get_visible_or_404(
        Opportunity.objects.select_related("customer", "owner", "stage"), request.user, pk=pk
    )
    services.check_can_change(opportunity, request.user)
    form = OrderForm(request.POST or None, initial={"amount": opportunity.amount})
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(
                opportunity=opportunity, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Order %(number)s recorded: the opportunity is won.") % {"number": order.number},
            )
            return redirect(order)
    return render(
        request, "opportunities/order_form.html", {"form": form, "opportunity": opportunity}
    )


def _order(request: HttpRequest, pk: int) -> Order:
    return get_visible_or_404(
        Order.objects.select_related("opportunity__owner", "customer", "owner").with_payments(
            timezone.localdate()
        ),
        request.user,
        pk=pk,
    )


def _changeable_order(request: HttpRequest, pk: int) -> Order:
    """The order for a view that changes its payments: outside the user's view a 404, then
    read-only users and anyone who may not change the opportunity a 403."""
    order = _order(request, pk)
    ensure_may_change(request.user)
    services.check_can_change(order.opportunity, request.user)
    return order


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk)
    can_change = services.can_change(order.opportunity, request.user)
    context = {
        "order": order,
        "lines": order.lines.all(),
        "instalments": order.instalments.with_collected(),
        "receipts": order.receipts.select_related("instalment", "recorded_by"),
        "today": timezone.localdate(),
        "can_change": can_change,
        "instalment_form": InstalmentForm(prefix="plan") if can_change else None,
        "receipt_form": ReceiptForm(order=order, prefix="receipt") if can_change else None,
    }
    return render(request, "opportunities/order_detail.html", context)


@login_required
@require_POST
def instalment_add(request: HttpRequest, pk: int) -> HttpResponse:
    order = _changeable_order(request, pk)
    form = InstalmentForm(request.POST, prefix="plan")
    if form.is_valid():
        try:
            services.instalment_add(order=order, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Instalment added to the payment plan."))
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect(order)


@login_required
@require_POST
def receipt_add(request: HttpRequest, pk: int) -> HttpResponse:
    order = _changeable_order(request, pk)
    form = ReceiptForm(request.POST, order=order, prefix="receipt")
    if form.is_valid():
        instalment: Instalment = form.cleaned_data.pop("instalment")
        try:
            services.receipt_record(instalment=instalment, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Payment recorded."))
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect(order)


def payment_totals(orders: QuerySet[Order], today: datetime.date) -> dict[str, Decimal]:
    """Sums over the orders shown, from the base tables: receipts never exceed their instalment,
    so what is overdue is the plan due before today less what was received against it."""
    scope = Order.objects.filter(pk__in=orders.values("pk"))
    amount = scope.aggregate(total=Sum("amount"))["total"] or ZERO
    receipts = Receipt.objects.filter(order__in=scope)
    collected = receipts.aggregate(total=Sum("amount"))["total"] or ZERO
    due = Instalment.objects.filter(order__in=scope, due_date__lt=today)
    planned = due.aggregate(total=Sum("amount"))["total"] or ZERO
    paid = receipts.filter(instalment__due_date__lt=today).aggregate(total=Sum("amount"))["total"]
    return {
        "amount": amount,
        "collected": collected,
        "outstanding": amount - collected,
        "overdue": planned - (paid or ZERO),
    }


@login_required
def finance(request: HttpRequest) -> HttpResponse:
    """财务: every visible order with collected, outstanding and overdue amounts."""
    if not services.can_see_finance(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    orders = (
        Order.objects.visible_to(request.user)
        .with_payments(today)
        .select_related("customer", "owner")
    )
    show = request.GET.get("show", "")
    if show == "overdue":
        orders = orders.filter(overdue__gt=0)
    elif show == "outstanding":
        orders = orders.filter(outstanding__gt=0)
    query = request.GET.get("q", "").strip()
    if query:
        orders = orders.filter(Q(number__icontains=query) | Q(customer__name__icontains=query))
    totals = payment_totals(orders, today)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "totals": totals, "show": show, "q": query}
    return render(request, "opportunities/finance.html", context)
