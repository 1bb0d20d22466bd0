"""The roles of the CRM, kept as auth groups named by these codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES_REP = "sales_rep", _("Sales rep")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SERVICE_AGENT = "service_agent", _("Service agent")
    SERVICE_SUPERVISOR = "service_supervisor", _("Service supervisor")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


class Level(models.IntegerChoices):
    """How far a user's view of owned records reaches, narrowest first."""

    OWN = 1, _("Own records")
    TEAM = 2, _("Team and sub-teams")
    DEPARTMENT = 3, _("Department")
    ALL = 4, _("All records")


# What each role may do beyond seeing its own records, as "app_label.codename". Domain apps
# extend this from their own data migrations with ``grant_permissions``.
PLATFORM_PERMISSIONS: dict[str, list[str]] = {
    Role.SALES_REP: [],
    Role.SALES_MANAGER: [
        "accounts.view_user",
        "accounts.view_team",
        "accounts.view_leave",
        "accounts.add_leave",
        "accounts.change_leave",
    ],
    Role.SERVICE_AGENT: [],
    Role.SERVICE_SUPERVISOR: [
        "accounts.view_user",
        "accounts.view_team",
        "accounts.view_leave",
        "accounts.add_leave",
        "accounts.change_leave",
    ],
    Role.ANALYST: ["accounts.view_user", "accounts.view_team"],
    Role.ADMIN: [],  # the admin role receives every permission, see grant_permissions
}


def grant_permissions(apps, grants: dict[str, list[str]], *, admin_apps: list[str]) -> None:  # type: ignore[no-untyped-def]
    """For data migrations: give roles (auth groups) permissions, creating both as needed.

    ``admin_apps`` lists the app labels whose every permission the admin role receives.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role in Role:
        group, _created = group_model.objects.get_or_create(name=role.value)
        wanted = grants.get(role, [])
        for dotted in wanted:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        if role == Role.ADMIN:
            group.permissions.add(
                *permission_model.objects.filter(content_type__app_label__in=admin_apps)
            )
