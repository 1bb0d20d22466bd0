"""Public endpoints of the service desk (no login): the portal and the surveys."""

from django.urls import path  # noqa: F401 - the portal and survey routes use it

urlpatterns: list = []
