from django.urls import include, path

from customers.views import customers as views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("views/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:view_pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/panels/<slug:key>/", views.customer_panel, name="panel"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:pk>/reassign/", views.customer_reassign, name="reassign"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    # Import and export (customers.transfer_urls): import/…, export/…
    path("", include("customers.transfer_urls")),
]
