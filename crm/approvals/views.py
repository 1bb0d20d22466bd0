from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.approvals.forms import DecisionForm
from crm.approvals.models import ApprovalRequest
from crm.approvals.services import approval_cancel, approval_decide, can_decide
from crm.core.visibility import get_visible_or_404

TABS = {
    "to_decide": lambda qs, user: qs.pending().filter(approver=user),
    "mine": lambda qs, user: qs.filter(requester=user),
    "decided": lambda qs, user: qs.filter(approver=user).exclude(
        status=ApprovalRequest.Status.PENDING
    ),
}


@login_required
def approval_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "to_decide")
    if tab not in TABS:
        tab = "to_decide"
    requests = TABS[tab](ApprovalRequest.objects.visible_to(request.user), request.user)
    requests = requests.select_related("requester", "approver")
    page = Paginator(requests, 20).get_page(request.GET.get("page"))
    return render(request, "approvals/approvalrequest_list.html", {"page_obj": page, "tab": tab})


@login_required
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_visible_or_404(
        ApprovalRequest.objects.select_related("requester", "approver", "decided_by"),
        request.user,
        pk=pk,
    )
    allowed = can_decide(approval, request.user)
    if request.method == "POST" and not allowed:
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            approval_decide(
                request=approval,
                by=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return redirect(approval)
    return render(
        request,
        "approvals/approvalrequest_detail.html",
        {"approval": approval, "form": form, "can_decide": allowed},
    )


@login_required
@require_POST
def approval_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_visible_or_404(ApprovalRequest, request.user, pk=pk)
    try:
        approval_cancel(request=approval, by=request.user)
    except PermissionDenied:
        messages.error(request, _("Only the requester can withdraw a pending request."))
    else:
        messages.success(request, _("The request has been withdrawn."))
    return redirect(approval)
