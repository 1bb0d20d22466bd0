from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.approvals.models import ApprovalRequest
from crm.core import health, navigation
from crm.core import home as home_panels
from crm.core.models import Attachment, CompanySettings
from crm.notifications.models import Notification


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My work: what needs the user's attention today. Domain apps add their panels."""
    user = request.user
    context = {
        "notifications": Notification.objects.filter(recipient=user).unread()[:5],
        "approvals_to_decide": ApprovalRequest.objects.pending()
        .filter(approver=user)
        .select_related("requester")[:10],
        "my_requests": ApprovalRequest.objects.filter(requester=user).select_related("approver")[
            :5
        ],
        "panels": home_panels.panels_for(user),
    }
    return render(request, "core/home.html", context)


@login_required
@require_GET
@never_cache
def nav_counts(request: HttpRequest) -> HttpResponse:
    """The sidebar's counts as out-of-band swaps, fetched once the page has loaded."""
    counts = navigation.counts_for(request.user)  # type: ignore[arg-type]
    # No request context: the shell's context processors would count the inbox again.
    return HttpResponse(render_to_string("components/nav_counts.html", {"counts": counts}))


@require_GET
@never_cache
def health_view(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": health.check_database(),
        "broker": health.check_broker(),
        "beat": health.check_beat(),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Serves a file only to users who may see the record it is attached to."""
    attachment = get_object_or_404(Attachment.objects.select_related("content_type"), pk=pk)
    model = attachment.content_type.model_class()
    manager = getattr(model, "_default_manager", None)
    if manager is None or not hasattr(manager, "visible_to"):
        raise Http404
    if not manager.visible_to(request.user).filter(pk=attachment.object_id).exists():
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def company_logo(request: HttpRequest) -> FileResponse:
    company = CompanySettings.load()
    if not company.logo:
        raise Http404
    return FileResponse(company.logo.open("rb"))
