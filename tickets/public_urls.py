"""Public endpoints of the service desk (no login): the portal and the surveys."""

from django.urls import path

from tickets import portal

app_name = "service"
urlpatterns = [
    path("service/", portal.portal_submit, name="submit"),
    path("service/received/", portal.portal_received, name="received"),
    path("service/<str:token>/", portal.portal_status, name="status"),
    path("service/<str:token>/messages/", portal.portal_add_information, name="add_information"),
    path("service/<str:token>/confirm/", portal.portal_confirm, name="confirm"),
    path("service/<str:token>/files/<int:pk>/", portal.portal_file, name="file"),
    path("survey/<str:token>/", portal.survey, name="survey"),
    path("survey/<str:token>/thanks/", portal.survey_thanks, name="survey_thanks"),
]
