import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "regions.csv"


def load_regions(apps, schema_editor):
    region_model = apps.get_model("accounts", "Region")
    province_model = apps.get_model("accounts", "Province")
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row["region_code"], len(order) + 1)
        region, _ = region_model.objects.update_or_create(
            code=row["region_code"],
            defaults={
                "name": row["region_zh"],
                "name_en": row["region_en"],
                "sort_order": order[row["region_code"]],
            },
        )
        province_model.objects.update_or_create(
            name=row["province_zh"], defaults={"region": region, "name_en": row["province_en"]}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
