"""The dictionaries of SPEC.md, in Chinese and English, and the roles' customer permissions."""

import csv
from pathlib import Path

from django.db import migrations

from crm.accounts.roles import Role, grant_permissions

DATA = Path(__file__).resolve().parent.parent / "data" / "industries.csv"

CATEGORIES = [("企业客户", "Enterprise"), ("个人客户", "Individual"), ("机构", "Institution")]
SCALES = [("大型企业", "Large enterprise"), ("中小企业", "SME"), ("个体商户", "Individual business")]
DEMAND_TAGS = [
    ("采购设备", "Equipment purchase"),
    ("寻求合作", "Seeking cooperation"),
    ("技术咨询", "Technical consulting"),
    ("产品咨询", "Product consulting"),
    ("价格问询", "Price inquiry"),
    ("合作洽谈", "Cooperation negotiation"),
    ("企业采购", "Enterprise purchase"),
]
FREE_TAGS = [
    ("价格敏感型", "Price-sensitive"),
    ("技术优先型", "Tech-first"),
    ("曾投诉质量", "Complained about quality"),
]
# code, Chinese, English, default tags
SOURCES = [
    ("exhibition", "展会推广", "Exhibition", ["合作洽谈"]),
    ("online_ads", "线上广告", "Online ads", []),
    ("referral", "客户转介绍", "Referral", []),
    ("website_form", "官网表单", "Website form", ["产品咨询"]),
    ("website_signup", "官网注册", "Website sign-up", []),
]
LEVELS = [("A 级", "Level A"), ("B 级", "Level B"), ("C 级", "Level C")]

PERMISSIONS = {
    Role.SALES_REP: ["customers.view_customer", "customers.add_customer",
                     "customers.change_customer", "customers.view_contact",
                     "customers.add_contact", "customers.change_contact"],
    Role.SALES_MANAGER: ["customers.view_customer", "customers.add_customer",
                         "customers.change_customer", "customers.delete_customer",
                         "customers.view_contact", "customers.add_contact",
                         "customers.change_contact", "customers.view_reveallog"],
    Role.ANALYST: ["customers.view_customer"],
}


def seed(apps, schema_editor):
    def dictionary(model_name, rows, **extra):
        model = apps.get_model("customers", model_name)
        created = {}
        for order, (name, name_en) in enumerate(rows, start=1):
            created[name], _ = model.objects.update_or_create(
                name=name, defaults={"name_en": name_en, "sort_order": order, **extra}
            )
        return created

    dictionary("CustomerCategory", CATEGORIES)
    dictionary("CustomerScale", SCALES)
    dictionary("CustomerLevel", LEVELS)
    tags = dictionary("DemandTag", DEMAND_TAGS, kind="demand")
    dictionary("DemandTag", FREE_TAGS, kind="free")
    channel = apps.get_model("customers", "SourceChannel")
    for order, (code, name, name_en, default_tags) in enumerate(SOURCES, start=1):
        source, _ = channel.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )
        source.default_tags.set([tags[tag] for tag in default_tags])
    industry = apps.get_model("customers", "Industry")
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for order, row in enumerate(rows, start=1):
        industry.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name_zh"],
                "name_en": row["name_en"],
                "sort_order": order,
                "parent": industry.objects.get(code=row["parent"]) if row["parent"] else None,
            },
        )
    apps.get_model("customers", "TierSettings").objects.get_or_create(pk=1)
    grant_permissions(apps, PERMISSIONS, admin_apps=["customers"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
