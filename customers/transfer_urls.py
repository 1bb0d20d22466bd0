"""Import and export routes, included into the ``customers`` namespace by customers/urls.py."""

from django.urls import path

from customers.views import transfer as views

urlpatterns = [
    path("import/", views.import_upload, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/jobs/", views.import_jobs, name="import_jobs"),
    path("import/<int:job_pk>/", views.import_detail, name="import_detail"),
    path("export/", views.export, name="export"),
    path("export/<token:token>/", views.export_download, name="export_download"),
]
