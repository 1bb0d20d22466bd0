"""The public service portal (服务通道) and the surveys: no login, reached by unguessable links.

``/service/`` takes a request and redirects to its private status page ``/service/<token>/``,
where the customer reads public replies, adds information and confirms the resolution.
``/survey/<token>/`` takes one answer. A token that matches nothing is a 404, like any id.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from crm.core.phones import phone_index
from customers.models import Contact
from tickets.intake import customer_files, customer_files_attach
from tickets.models import Survey, Ticket, TicketMessage
from tickets.portal_forms import PortalMessageForm, PortalRequestForm, SurveyForm
from tickets.services import ticket_confirm_resolution, ticket_create, ticket_message_add
from tickets.surveys import survey_answer


# Rates are read per request, not at import, so admins and tests can change them in settings.
def submit_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "SERVICE_PORTAL_RATE", "5/m")


def follow_up_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "SERVICE_PORTAL_FOLLOW_UP_RATE", "20/m")


def _archive_contact(phone: str, email: str) -> Contact | None:
    """The archive contact with this phone (or else email), so the agent sees the customer."""
    contacts = Contact.objects.select_related("customer").order_by("id")
    if phone:
        contact = contacts.filter(phone_index=phone_index(phone)).first()
        if contact is not None:
            return contact
    if email:
        return contacts.filter(email__iexact=email).first()
    return None


def _send_receipt(ticket_id: int) -> None:
    from crm.core.tasks import enqueue
    from tickets.tasks import send_portal_receipt

    transaction.on_commit(lambda: enqueue(send_portal_receipt, ticket_id))


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=submit_rate, method="POST", block=False, group="service.submit")
def portal_submit(request: HttpRequest) -> HttpResponse:
    limited = request.method == "POST" and getattr(request, "limited", False)
    form = PortalRequestForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and not limited:
        if form.is_spam():
            return redirect("service:received")  # look successful, so the bot learns nothing
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = ticket_create(
                    contact=_archive_contact(data["contact_phone"], data["contact_email"]),
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    category=data["category"],
                    description=data["description"],
                    channel=Ticket.Channel.PORTAL,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                customer_files_attach(ticket=ticket, uploads=data["attachments"])
                _send_receipt(ticket.pk)
                return redirect(reverse("service:status", args=[ticket.public_token]) + "?new=1")
    return render(
        request,
        "tickets/portal/submit.html",
        {"form": form, "limited": limited},
        status=429 if limited else 200,
    )


def portal_received(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/portal/received.html")


def _ticket_for(token: str) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related("category__parent").prefetch_related(
            Prefetch(
                "messages",
                queryset=TicketMessage.objects.public().select_related("author"),
                to_attr="public_messages",
            )
        ),
        public_token=token,
    )


def _status_page(
    request: HttpRequest,
    ticket: Ticket,
    form: PortalMessageForm | None = None,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    survey = (
        Survey.objects.filter(ticket=ticket, kind=Survey.Kind.CSAT, sent_at__isnull=False)
        .order_by("-created_at", "-id")
        .first()
    )
    context = {
        "ticket": ticket,
        "messages_public": ticket.public_messages,  # type: ignore[attr-defined]
        "attachments": customer_files(ticket),
        "form": form or PortalMessageForm(),
        "error": error,
        "survey": survey if survey is not None and survey.is_open(now) else None,
        "rated": survey if survey is not None and survey.is_answered else None,
        "is_new": request.GET.get("new") == "1",
        "status_url": request.build_absolute_uri(
            reverse("service:status", args=[ticket.public_token])
        ),
    }
    return render(request, "tickets/portal/status.html", context, status=status)


def portal_status(request: HttpRequest, token: str) -> HttpResponse:
    return _status_page(request, _ticket_for(token))


def portal_file(request: HttpRequest, token: str, pk: int) -> FileResponse:
    """One of the customer's own files, only through their ticket's link."""
    ticket = get_object_or_404(Ticket, public_token=token)
    attachment = get_object_or_404(customer_files(ticket), pk=pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@ratelimit(key="ip", rate=follow_up_rate, method="POST", block=False, group="service.follow_up")
def portal_add_information(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_for(token)
    if getattr(request, "limited", False):
        error = _("Too many messages from your network. Please wait a minute.")
        return _status_page(
            request, ticket, PortalMessageForm(request.POST), error=error, status=429
        )
    form = PortalMessageForm(request.POST, request.FILES)
    if form.is_spam():
        return redirect("service:status", token=token)
    if form.is_valid():
        try:
            ticket_message_add(
                ticket=ticket, body=form.cleaned_data["body"], kind=TicketMessage.Kind.CUSTOMER
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            customer_files_attach(ticket=ticket, uploads=form.cleaned_data["attachments"])
            return redirect("service:status", token=token)
    return _status_page(request, ticket, form, status=400)


@require_POST
@ratelimit(key="ip", rate=follow_up_rate, method="POST", block=False, group="service.follow_up")
def portal_confirm(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_for(token)
    try:
        ticket_confirm_resolution(ticket=ticket, note=_("Confirmed by the customer"))
    except ValidationError as error:
        return _status_page(request, ticket, error=" ".join(error.messages), status=400)
    return redirect("service:status", token=token)


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    survey = get_object_or_404(
        Survey.objects.select_related("ticket", "customer"), token=token, sent_at__isnull=False
    )
    now = timezone.now()
    if survey.is_answered or survey.is_expired(now):
        return render(request, "tickets/portal/survey_closed.html", {"survey": survey}, status=410)
    form = SurveyForm(request.POST if request.method == "POST" else None, survey=survey)
    if request.method == "POST" and form.is_valid():
        try:
            survey_answer(
                survey=survey,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("service:survey_thanks", token=token)
    return render(request, "tickets/portal/survey.html", {"survey": survey, "form": form})


def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    survey = get_object_or_404(Survey, token=token, answered_at__isnull=False)
    return render(request, "tickets/portal/survey_thanks.html", {"survey": survey})
