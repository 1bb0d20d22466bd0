from django.urls import path

from analytics.views import dashboards, plans

app_name = "analytics"

urlpatterns = [
    path("", dashboards.index, name="index"),
    path("records/<slug:dataset_key>/", dashboards.records, name="records"),
    path("records/<slug:dataset_key>/export/", dashboards.records_export, name="records_export"),
    path("exports/", dashboards.export_requests, name="exports"),
    path("exports/<token:token>/", dashboards.export_download, name="export_download"),
    path("actions/", plans.plan_list, name="action_plans"),
    path("actions/new/", plans.plan_create, name="action_plan_create"),
    path("actions/<int:pk>/", plans.plan_detail, name="action_plan"),
    path("actions/<int:pk>/edit/", plans.plan_edit, name="action_plan_edit"),
    path("actions/<int:pk>/status/", plans.plan_move, name="action_plan_move"),
    path("<slug:key>/", dashboards.dashboard_view, name="dashboard"),
    path("<slug:key>/export/", dashboards.table_export, name="table_export"),
]
