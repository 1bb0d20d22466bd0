from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
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
