"""The sales stages, lost reasons, objection types and milestones of SPEC.md §3, and the roles'
pipeline permissions."""

from django.db import migrations

from crm.accounts.roles import Role, grant_permissions

# code, name, English name, kind, probability, forecast category, stale after days
STAGES = [
    ("lead", "线索获取", "Lead", "open", 10, "pipeline", None),
    ("initial_contact", "初步接触", "Initial contact", "open", 20, "pipeline", None),
    ("needs_confirmed", "需求确认", "Needs confirmed", "open", 40, "pipeline", None),
    ("proposal", "方案提交", "Proposal submitted", "open", 60, "best_case", 7),
    ("negotiation", "商务谈判", "Negotiation", "open", 80, "commit", None),
    ("won", "合同签订", "Contract signed", "won", 100, "closed", None),
    ("collected", "回款完成", "Payment collected", "collected", 100, "closed", None),
    ("lost", "输单", "Lost", "lost", 0, "omitted", None),
]
LOST_REASONS = [
    ("price", "价格因素", "Price"),
    ("competitor", "选择竞品", "Chose a competitor"),
    ("no_budget", "预算不足", "No budget"),
    ("cancelled", "需求取消", "Need cancelled"),
    ("no_contact", "联系中断", "Lost contact"),
    ("other", "其他", "Other"),
]
OBJECTION_TYPES = [
    ("price", "价格过高", "Price too high"),
    ("function", "功能不匹配", "Function mismatch"),
    ("timeline", "实施周期长", "Implementation takes too long"),
    ("service", "售后服务顾虑", "After-sales concerns"),
    ("incumbent", "已有供应商", "Has a supplier already"),
    ("other", "其他", "Other"),
]
MILESTONES = [
    ("proposal", "提交方案并确认客户反馈", 3, "方案发出后电话确认客户已收到，记录关注点。"),
    ("negotiation", "准备合同草案并提交法务审核", 2, "确认价格、付款方式与交付时间。"),
]

MODELS = [
    "opportunity",
    "opportunityline",
    "competitor",
    "objection",
    "order",
    "orderline",
    "instalment",
    "receipt",
]


def _perms(actions):
    return [f"opportunities.{action}_{model}" for model in MODELS for action in actions]


PERMISSIONS = {
    Role.SALES_REP: _perms(["view", "add", "change"]),
    Role.SALES_MANAGER: [*_perms(["view", "add", "change", "delete"]), "opportunities.view_stagevisit"],
    Role.ANALYST: [*_perms(["view"]), "opportunities.view_stagevisit"],
}


def _entries(model, rows):
    for order, (code, name, name_en) in enumerate(rows, start=1):
        model.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )


def seed(apps, schema_editor):
    stage_model = apps.get_model("opportunities", "Stage")
    stages = {}
    for order, (code, name, name_en, kind, probability, category, stale) in enumerate(
        STAGES, start=1
    ):
        stages[code], _created = stage_model.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "kind": kind,
                "probability": probability,
                "forecast_category": category,
                "stale_after_days": stale,
                "sort_order": order * 10,
            },
        )
    _entries(apps.get_model("opportunities", "LostReason"), LOST_REASONS)
    _entries(apps.get_model("opportunities", "ObjectionType"), OBJECTION_TYPES)
    template_model = apps.get_model("opportunities", "StageTaskTemplate")
    for stage, title, days, content in MILESTONES:
        template_model.objects.update_or_create(
            stage=stages[stage], title=title, defaults={"due_in_days": days, "content": content}
        )
    grant_permissions(apps, PERMISSIONS, admin_apps=["opportunities"])


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0001_initial"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
