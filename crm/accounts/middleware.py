from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _


class AccountValidityMiddleware:
    """Signs out a user whose account was deactivated or expired while they were signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and (not user.is_active or user.is_expired()):
            logout(request)
            messages.error(request, _("Your account is no longer valid. Please sign in again."))
            return redirect("login")
        return self.get_response(request)


class PreferredLanguageMiddleware(LocaleMiddleware):
    """The UI speaks zh-hans unless the user chose otherwise (the language cookie, which signing
    in sets from their account). Unlike Django's LocaleMiddleware it ignores the browser's
    Accept-Language: a company CRM follows the company's language, not the laptop's."""

    def process_request(self, request: HttpRequest) -> None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
