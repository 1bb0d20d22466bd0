from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from crm.notifications.models import Notification
from crm.notifications.services import notification_mark_read


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(recipient=request.user).select_related("actor")
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        notifications = notifications.unread()
    page = Paginator(notifications, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notification_list.html",
        {"page_obj": page, "only_unread": only_unread},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks one notification read and follows its link (only to this site)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(recipient=request.user).mark_read()
    if request.htmx:
        return render(request, "base.html#badge", {"unread_count": 0})
    return redirect("notifications:list")


@login_required
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The navbar's unread count, refreshed by htmx."""
    unread_count = Notification.objects.filter(recipient=request.user).unread().count()
    return render(request, "base.html#badge", {"unread_count": unread_count})
