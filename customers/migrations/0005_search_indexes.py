"""Indexes for the archive's search: the number in capitals everywhere; on Postgres, trigram
(pg_trgm) indexes for the substring searches on names, pinyin and contact names."""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from crm.core.migration_operations import RunSQLOnPostgres

TRIGRAM_INDEXES = [
    # name__icontains compiles to UPPER("name") LIKE UPPER(%s)
    ("customer_name_trgm", "customers_customer", 'UPPER("name")'),
    ("customer_pinyin_trgm", "customers_customer", '"name_pinyin"'),
    ("contact_name_trgm", "customers_contact", 'UPPER("name")'),
]


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_territory_followup_due"),
    ]

    operations = [
        TrigramExtension(),  # a no-op on other databases
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                django.db.models.functions.text.Upper("number"), name="customer_number_upper"
            ),
        ),
        *[
            RunSQLOnPostgres(
                f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)",
                f"DROP INDEX {name}",
            )
            for name, table, expression in TRIGRAM_INDEXES
        ],
    ]
