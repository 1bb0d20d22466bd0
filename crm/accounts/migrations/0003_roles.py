from django.db import migrations

from crm.accounts.roles import PLATFORM_PERMISSIONS, grant_permissions


def create_roles(apps, schema_editor):
    grant_permissions(
        apps,
        PLATFORM_PERMISSIONS,
        admin_apps=["accounts", "core", "notifications", "approvals", "django_celery_beat"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_regions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("notifications", "0001_initial"),
        ("approvals", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
