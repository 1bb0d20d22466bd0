from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crm.core.models import CompanySettings


class CompanyTimezoneMiddleware:
    """Shows times in the company's time zone (系统设置), whatever the server's. The settings row
    stays on the request as ``request.company`` for the page shell, which would read it again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.company = CompanySettings.load()  # type: ignore[attr-defined]
        timezone.activate(request.company.time_zone)  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
