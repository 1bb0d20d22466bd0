"""Ticket categories and SLA defaults of SPEC.md §4, and the roles' ticket permissions."""

from django.db import migrations

from crm.accounts.roles import Role, grant_permissions

# (name, English name, default priority, children)
CATEGORIES = [
    (
        "投诉",
        "Complaint",
        "important",
        [
            ("服务质量类", "Service quality"),
            ("产品功能类", "Product function"),
            ("售后投诉", "After-sales complaint"),
        ],
    ),
    (
        "建议",
        "Suggestion",
        "suggestion",
        [("功能优化类", "Feature improvement"), ("服务体验类", "Service experience")],
    ),
    (
        "咨询",
        "Consultation",
        "normal",
        [
            ("产品使用类", "Product usage"),
            ("合作政策类", "Cooperation policy"),
            ("技术咨询", "Technical consulting"),
            ("账务咨询", "Billing inquiry"),
        ],
    ),
]

# priority: (response target, unit, resolution target, unit, warn minutes before)
SLA_DEFAULTS = {
    "urgent": (2, "working_hours", 3, "working_days", 30),
    "important": (24, "working_hours", 7, "working_days", 240),
    "normal": (3, "working_days", 10, "working_days", 480),
    "suggestion": (5, "working_days", 20, "working_days", 480),
}

WORK = ["ticket", "ticketmessage", "collaborator", "delayexplanation"]
SETUP = ["servicequeue", "queueagent"]


def _perms(models, actions):
    return [f"tickets.{action}_{model}" for model in models for action in actions]


PERMISSIONS = {
    Role.SERVICE_AGENT: _perms(WORK, ["view", "add", "change"]),
    Role.SERVICE_SUPERVISOR: [
        *_perms(WORK, ["view", "add", "change"]),
        *_perms(SETUP, ["view", "add", "change", "delete"]),
        "tickets.view_ticketcategory",
        "tickets.view_slapolicy",
    ],
    Role.ANALYST: _perms(WORK, ["view"]),
}


def seed(apps, schema_editor):
    category_model = apps.get_model("tickets", "TicketCategory")
    for order, (name, name_en, priority, children) in enumerate(CATEGORIES, start=1):
        parent, _ = category_model.objects.update_or_create(
            parent=None,
            name=name,
            defaults={"name_en": name_en, "default_priority": priority, "sort_order": order * 10},
        )
        for child_order, (child, child_en) in enumerate(children, start=1):
            category_model.objects.update_or_create(
                parent=parent,
                name=child,
                defaults={
                    "name_en": child_en,
                    "default_priority": priority,
                    "sort_order": order * 10 + child_order,
                },
            )
    policy_model = apps.get_model("tickets", "SLAPolicy")
    for priority, (response, response_unit, resolution, resolution_unit, warn) in (
        SLA_DEFAULTS.items()
    ):
        policy_model.objects.update_or_create(
            priority=priority,
            category=None,
            defaults={
                "response_target": response,
                "response_unit": response_unit,
                "resolution_target": resolution,
                "resolution_unit": resolution_unit,
                "warn_before_minutes": warn,
            },
        )
    apps.get_model("tickets", "DeskSettings").objects.get_or_create(pk=1)
    grant_permissions(apps, PERMISSIONS, admin_apps=["tickets"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
