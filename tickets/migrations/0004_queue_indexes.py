"""Indexes of the ticket queues at a real desk's size: open tickets in order of their next
deadline, their tab counts from one small covering index, and the search (the number in
capitals everywhere; on Postgres, trigram indexes for subject and contact name: pg_trgm comes
with customers.0005, and unapplying this migration must not drop it)."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

from crm.core.migration_operations import RunSQLOnPostgres

OPEN = models.Q(("status__in", ("new", "processing", "awaiting")))
TRIGRAM_INDEXES = [
    # subject__icontains compiles to UPPER("subject") LIKE UPPER(%s)
    ("ticket_subject_trgm", 'UPPER("subject")'),
    ("ticket_contact_name_trgm", 'UPPER("contact_name")'),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_roles"),
        ("customers", "0005_search_indexes"),
        ("tickets", "0003_calendar_inbound_surveys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                django.db.models.functions.text.Upper("number"), name="ticket_number_upper"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                models.Case(
                    models.When(
                        first_responded_at__isnull=True,
                        first_response_due__lt=models.F("resolution_due"),
                        then=models.F("first_response_due"),
                    ),
                    default=models.F("resolution_due"),
                ),
                models.F("id"),
                condition=OPEN,
                name="ticket_open_next_due",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=OPEN,
                fields=[
                    "department",
                    "assignee",
                    "queue",
                    "status",
                    "resolution_due",
                    "first_response_due",
                    "first_responded_at",
                    "id",
                ],
                name="ticket_open_counts",
            ),
        ),
        *[
            RunSQLOnPostgres(
                f"CREATE INDEX {name} ON tickets_ticket USING gin ({expression} gin_trgm_ops)",
                f"DROP INDEX {name}",
            )
            for name, expression in TRIGRAM_INDEXES
        ],
    ]
