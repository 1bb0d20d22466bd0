from django.urls import path

from followups import preferences, views

app_name = "followups"

urlpatterns = [
    path("", views.task_list, name="list"),
    path("team/", views.team, name="team"),
    path("calendar/", views.task_calendar, name="calendar"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/reschedule/", views.task_reschedule, name="reschedule"),
    path("tasks/<int:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("tasks/<int:pk>/transfer/", views.task_transfer, name="task_transfer"),
    path("tasks/<int:pk>/record/", views.record_create, name="task_record"),
    path("records/new/", views.record_create, name="record_create"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/pause/", views.plan_pause, name="plan_pause"),
    path("preferences/", preferences.preferences, name="preferences"),
]
