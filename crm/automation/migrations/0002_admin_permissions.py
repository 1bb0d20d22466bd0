from django.db import migrations

from crm.accounts.roles import grant_permissions


def grant(apps, schema_editor):
    grant_permissions(apps, {}, admin_apps=["automation"])


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial"), ("accounts", "0003_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
