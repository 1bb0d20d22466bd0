from django.urls import path

from tickets import satisfaction, views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("new/customers/", views.intake_customer_search, name="intake_search"),
    path("new/customer/", views.intake_customer_pick, name="intake_pick"),
    path("assign/", views.ticket_bulk_assign, name="bulk_assign"),
    path("duty/", views.duty, name="duty"),
    path("duty/<int:member_pk>/", views.duty_set, name="duty_set"),
    path("satisfaction/", satisfaction.satisfaction_report, name="satisfaction"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/take/", views.ticket_take, name="take"),
    path("<int:pk>/move/", views.ticket_move, name="move"),
    path("<int:pk>/messages/", views.ticket_message, name="message"),
    path("<int:pk>/assign/", views.ticket_assign, name="assign"),
    path("<int:pk>/redispatch/", views.ticket_redispatch, name="redispatch"),
    path("<int:pk>/priority/", views.ticket_priority, name="priority"),
    path("<int:pk>/collaborators/", views.collaborator_add, name="collaborator_add"),
    path(
        "<int:pk>/collaborators/<int:collaborator_pk>/done/",
        views.collaborator_done,
        name="collaborator_done",
    ),
    path("<int:pk>/delay/", views.delay_explanation, name="delay"),
]
