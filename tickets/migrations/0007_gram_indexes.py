"""On Postgres, indexes of the characters and pairs of characters of subject and contact name,
for the queue's searches of one or two characters (crm.core.search; the function comes with
customers.0006)."""

from django.db import migrations

from crm.core.migration_operations import RunSQLOnPostgres

GRAM_INDEXES = [
    ("ticket_subject_grams", 'UPPER("subject")'),
    ("ticket_contact_name_grams", 'UPPER("contact_name")'),
]


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_gram_indexes"),
        ("tickets", "0006_dashboard_indexes"),
    ]

    operations = [
        *[
            RunSQLOnPostgres(
                f"CREATE INDEX {name} ON tickets_ticket USING gin (crm_grams({expression}))",
                f"DROP INDEX {name}",
            )
            for name, expression in GRAM_INDEXES
        ],
        RunSQLOnPostgres("ANALYZE tickets_ticket", migrations.RunSQL.noop),
    ]
