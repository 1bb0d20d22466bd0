"""The public side of lead capture: the embeddable web form and the JSON API for websites."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from customers.forms_leads import LeadApiForm, LeadCaptureForm
from customers.leads import lead_capture
from customers.models import LeadSource, SourceChannel

DEFAULT_CHANNEL = "website_form"
CHANNEL_CODE = re.compile(r"[-a-zA-Z0-9_]{1,40}")


# Rates are read per request, not at import, so admins and tests can change them in settings.
def capture_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "LEAD_CAPTURE_RATE", "10/m")


def api_ip_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "LEAD_API_RATE_PER_IP", "30/m")


def api_key_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "LEAD_API_RATE_PER_KEY", "60/m")


def api_key(group: str, request: HttpRequest) -> str:
    return request.headers.get("X-Api-Key", "")[:200]


def _channel(code: str) -> SourceChannel:
    """The channel named in ``?source=``, or the website form's for an unknown one."""
    channel = None
    if CHANNEL_CODE.fullmatch(code):
        channel = SourceChannel.objects.filter(code=code, is_active=True).first()
    channel = channel or SourceChannel.objects.filter(code=DEFAULT_CHANNEL).first()
    if channel is None:
        raise Http404(_("Lead capture is not configured."))
    return channel


def _thanks(channel: SourceChannel) -> HttpResponse:
    """POST/redirect/GET; the thanks page links back to the same channel's form (an exhibition
    tablet takes one inquiry after another)."""
    url = reverse("leads:thanks")
    if channel.code != DEFAULT_CHANNEL:
        url += "?" + urlencode({"source": channel.code})
    return redirect(url)


# The form and its thanks page are framed by the company website (LEAD_FORM_FRAME_ANCESTORS).
FRAMEABLE = csp_replace({"frame-ancestors": settings.LEAD_FORM_FRAME_ANCESTORS})


# Embedded in the company website, cross-site: the framed page cannot carry our Lax CSRF cookie,
# and the view acts for nobody (no session user), so CSRF would only break it. Spam is met by the
# honeypot and the per-IP limit instead.
@xframe_options_exempt
@FRAMEABLE
@csrf_exempt
@ratelimit(key="ip", rate=capture_rate, method="POST", block=False, group="leads.capture")
def capture_form(request: HttpRequest) -> HttpResponse:
    channel = _channel(request.GET.get("source", ""))
    form = LeadCaptureForm(request.POST if request.method == "POST" else None)
    limited = request.method == "POST" and getattr(request, "limited", False)
    if request.method == "POST" and not limited:
        if form.is_spam():
            return _thanks(channel)  # look successful, so the bot learns nothing
        if form.is_valid():
            try:
                lead_capture(source=channel, **form.lead_fields())
            except ValidationError as error:
                form.add_service_error(error)
            else:
                return _thanks(channel)
    context = {"form": form, "channel": channel, "limited": limited}
    return render(
        request, "customers/leads/capture_form.html", context, status=429 if limited else 200
    )


@xframe_options_exempt
@FRAMEABLE
@require_GET
def capture_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "customers/leads/capture_thanks.html")


def _lead_source(key: str) -> LeadSource | None:
    if not key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    return (
        LeadSource.objects.filter(api_key_hash=digest, is_active=True)
        .select_related("channel")
        .first()
    )


def _json_object(request: HttpRequest) -> dict[str, Any] | str:
    """The body as a JSON object, or why it is not one."""
    try:
        payload = json.loads(request.body)
    except RequestDataTooBig:
        return _("The body is too large.")
    except (ValueError, RecursionError):  # bad JSON or bad UTF-8; absurd nesting
        return _("The body must be a JSON object.")
    return payload if isinstance(payload, dict) else _("The body must be a JSON object.")


def _errors(messages: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse({"errors": messages}, status=400)


# Called by websites' servers with a key, not by browsers: no CSRF cookie to check. The form's
# honeypot is not applied here: a key holder is trusted, and a leaked key is switched off in admin.
@csrf_exempt
@require_POST
@ratelimit(key="ip", rate=api_ip_rate, method="POST", block=False, group="leads.api.ip")
@ratelimit(key=api_key, rate=api_key_rate, method="POST", block=False, group="leads.api.key")
def lead_api(request: HttpRequest) -> JsonResponse:
    if getattr(request, "limited", False):
        return JsonResponse({"error": _("Too many requests. Try again in a minute.")}, status=429)
    source = _lead_source(request.headers.get("X-Api-Key", ""))
    if source is None:
        response = JsonResponse({"error": _("Missing or invalid API key.")}, status=401)
        response["WWW-Authenticate"] = 'ApiKey header="X-Api-Key"'
        return response
    payload = _json_object(request)
    if isinstance(payload, str):
        return _errors({"__all__": [payload]})
    form = LeadApiForm(payload)
    if not form.is_valid():
        return _errors({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    try:
        result = lead_capture(source=source.channel, **form.lead_fields())
    except ValidationError as error:
        return _errors(
            error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        )
    body = {
        "number": result.customer.number,
        "created": result.created,
        "customer": result.customer.pk,
    }
    # A known phone creates nothing: 200, not 201, so callers can tell without reading the body.
    return JsonResponse(body, status=201 if result.created else 200)
