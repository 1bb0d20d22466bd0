"""Public endpoints of the service desk (no login): the portal and the surveys."""

from django.urls import path

from tickets import portal

app_name = "service"
urlpatterns = [
    path("service/", portal.portal_submit, name="submit"),
    path("service/received/", portal.portal_received, name="received"),
    path("service/<token:token>/", portal.portal_status, name="status"),
    path("service/<token:token>/messages/", portal.portal_add_information, name="add_information"),
    path("service/<token:token>/confirm/", portal.portal_confirm, name="confirm"),
    path("service/<token:token>/files/<int:pk>/", portal.portal_file, name="file"),
    path("survey/<token:token>/", portal.survey, name="survey"),
    path("survey/<token:token>/thanks/", portal.survey_thanks, name="survey_thanks"),
]
