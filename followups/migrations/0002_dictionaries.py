"""Follow-up methods and scripts of SPEC.md §2, and the roles' follow-up permissions."""

from django.db import migrations

from crm.accounts.roles import Role, grant_permissions

METHODS = [
    ("phone", "电话", "Phone"),
    ("email", "邮件", "Email"),
    ("visit", "拜访/面谈", "Visit"),
    ("meeting", "会议", "Meeting"),
    ("online", "线上会议", "Online meeting"),
]
TEMPLATES = [
    (
        "首次电话",
        "phone",
        "1. 自我介绍：您好，我是××公司的客户经理××。\n"
        "2. 说明来电目的，确认对方是否方便通话。\n"
        "3. 了解需求：目前的业务情况、采购计划、预算与时间。\n"
        "4. 约定下一步：发送资料或预约拜访的具体时间。",
    ),
    (
        "产品介绍",
        "visit",
        "1. 回顾客户需求与痛点。\n"
        "2. 介绍产品核心功能与同行业成功案例。\n"
        "3. 演示与答疑，记录客户关注点。\n"
        "4. 确认决策人和采购流程，约定方案或报价时间。",
    ),
]

FOLLOWUP_MODELS = ["followupplan", "followuptask", "followuprecord"]


def _perms(actions):
    return [f"followups.{action}_{model}" for model in FOLLOWUP_MODELS for action in actions]


PERMISSIONS = {
    Role.SALES_REP: _perms(["view", "add", "change"]),
    Role.SALES_MANAGER: _perms(["view", "add", "change", "delete"]),
    Role.ANALYST: _perms(["view"]),
}


def seed(apps, schema_editor):
    method_model = apps.get_model("followups", "FollowUpMethod")
    methods = {}
    for order, (code, name, name_en) in enumerate(METHODS, start=1):
        methods[code], _ = method_model.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )
    template_model = apps.get_model("followups", "TaskTemplate")
    for name, method, content in TEMPLATES:
        template_model.objects.update_or_create(
            name=name, defaults={"method": methods[method], "content": content}
        )
    grant_permissions(apps, PERMISSIONS, admin_apps=["followups"])


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0001_initial"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
