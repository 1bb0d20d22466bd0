"""Public endpoints of the archive: the web-to-lead form and the lead API."""

from django.urls import path

from customers.views import leads

app_name = "leads"
urlpatterns = [
    path("leads/capture/", leads.capture_form, name="capture"),
    path("leads/capture/thanks/", leads.capture_thanks, name="thanks"),
    path("api/leads/", leads.lead_api, name="api"),
]
