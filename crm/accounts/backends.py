from django.conf import settings
from django.contrib.auth.backends import AllowAllUsersModelBackend
from django.http import HttpRequest


class AccountBackend(AllowAllUsersModelBackend):
    """Checks the password of inactive and expired accounts too, so that the sign-in form can
    say why such an account is refused (``SignInForm.confirm_login_allowed``) instead of
    reporting a wrong password. ``AccountValidityMiddleware`` ends their open sessions."""


def client_ip(request: HttpRequest) -> str | None:
    """The address sign-in throttling counts by: REMOTE_ADDR, or behind a reverse proxy the
    header named by RATELIMIT_IP_META_KEY (the one lead capture's rate limits use too)."""
    key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    value = request.META.get(key) or request.META.get("REMOTE_ADDR")
    return value.split(",")[0].strip() if value else None
