from django.contrib import admin
from django.urls import include, path

from crm.core import converters
from crm.core import views as core_views

converters.register()  # <token:…> in the apps' URLs

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health_view, name="health"),
    path("nav/counts/", core_views.nav_counts, name="nav_counts"),
    path("accounts/", include("crm.accounts.urls")),
    path("notifications/", include("crm.notifications.urls")),
    path("approvals/", include("crm.approvals.urls")),
    path("customers/", include("customers.urls")),
    path("followups/", include("followups.urls")),
    path("", include("opportunities.urls")),
    path("tickets/", include("tickets.urls")),
    path("analytics/", include("analytics.urls")),
    path("", include("tickets.public_urls")),
    path("", include("customers.public_urls")),
    path("attachments/<int:pk>/", core_views.attachment_download, name="attachment_download"),
    path("branding/logo/", core_views.company_logo, name="company_logo"),
    path("admin/", admin.site.urls),
]
