from django.urls import path

from opportunities.views import forecast, items, orders, pipeline

app_name = "opportunities"

urlpatterns = [
    path("opportunities/", pipeline.opportunity_list, name="list"),
    path("opportunities/board/", pipeline.board, name="board"),
    path("opportunities/export/", pipeline.export_view, name="export"),
    path("opportunities/new/", pipeline.create, name="create"),
    path("opportunities/forecast/", forecast.forecast_view, name="forecast"),
    path("opportunities/<int:pk>/", pipeline.detail, name="detail"),
    path("opportunities/<int:pk>/edit/", pipeline.edit, name="edit"),
    path("opportunities/<int:pk>/move/", pipeline.move, name="move"),
    path("opportunities/<int:pk>/lines/", items.line_add, name="line_add"),
    path(
        "opportunities/<int:pk>/lines/<int:line_pk>/remove/", items.line_remove, name="line_remove"
    ),
    path("opportunities/<int:pk>/competitors/", items.competitor_add, name="competitor_add"),
    path(
        "opportunities/<int:pk>/competitors/<int:competitor_pk>/remove/",
        items.competitor_remove,
        name="competitor_remove",
    ),
    path("opportunities/<int:pk>/objections/", items.objection_add, name="objection_add"),
    path(
        "opportunities/<int:pk>/objections/<int:objection_pk>/",
        items.objection_update,
        name="objection_update",
    ),
    path("opportunities/<int:pk>/order/", orders.order_create, name="order_create"),
    path("orders/<int:pk>/", orders.order_detail, name="order"),
    path("orders/<int:pk>/instalments/", orders.instalment_add, name="instalment_add"),
    path("orders/<int:pk>/receipts/", orders.receipt_add, name="receipt_add"),
    path("finance/", orders.finance, name="finance"),
]
