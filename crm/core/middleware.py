from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crm.core.models import CompanySettings


class CompanyTimezoneMiddleware:
    """Shows times in the company's time zone (系统设置), whatever the server's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(CompanySettings.load().time_zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
