"""The customers each owner has (``OwnerCount``), kept by Postgres statement triggers on the
customers: each statement's changed rows (transition tables) add or take away their owners'
counts in one upsert, in the writer's transaction, whatever wrote them (a service,
``QuerySet.update``, COPY). Keys are upserted in order, so two writers lock shared rows in the
same order. An update that changes no owner (nearly all of them) upserts nothing and locks
nothing: its old and new rows cancel out. The counts are grouped and summed, never joined, so
the cost stays linear in the rows of a statement whatever plan PL/pgSQL keeps. On SQLite
nothing of this exists and the list counts the customers.
"""

from django.db import migrations, models

from crm.core.migration_operations import RunSQLOnPostgres

# (owner or 0) -> customers: +1 per new row, -1 per old one.
UPSERT = """
    INSERT INTO customers_ownercount AS c (owner_key, customers)
    SELECT owner_key, sum(n) FROM ({changes}) AS change
    GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1
    ON CONFLICT (owner_key) DO UPDATE SET customers = c.customers + excluded.customers;
"""
NEW = "SELECT coalesce(owner_id, 0) AS owner_key, 1 AS n FROM new_rows"
OLD = "SELECT coalesce(owner_id, 0) AS owner_key, -1 AS n FROM old_rows"

FORWARDS = f"""
CREATE FUNCTION customers_owner_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(changes=NEW)}
    ELSIF TG_OP = 'DELETE' THEN
        {UPSERT.format(changes=OLD)}
    ELSE
        {UPSERT.format(changes=NEW + " UNION ALL " + OLD)}
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_owner_count_insert AFTER INSERT ON customers_customer
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_owner_count();
CREATE TRIGGER customers_owner_count_update AFTER UPDATE ON customers_customer
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customers_owner_count();
CREATE TRIGGER customers_owner_count_delete AFTER DELETE ON customers_customer
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_owner_count();

-- Recounted from the customers, with their writers held off meanwhile (for repairs, and now).
CREATE FUNCTION customers_owner_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE customers_customer IN SHARE MODE;
    DELETE FROM customers_ownercount;
    INSERT INTO customers_ownercount (owner_key, customers)
    SELECT coalesce(owner_id, 0), count(*) FROM customers_customer GROUP BY 1 ORDER BY 1;
END $$;

SELECT customers_owner_counts_rebuild();
"""

BACKWARDS = """
DROP TRIGGER customers_owner_count_insert ON customers_customer;
DROP TRIGGER customers_owner_count_update ON customers_customer;
DROP TRIGGER customers_owner_count_delete ON customers_customer;
DROP FUNCTION customers_owner_count();
DROP FUNCTION customers_owner_counts_rebuild();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_dashboard_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="OwnerCount",
            fields=[
                ("owner_key", models.BigIntegerField(primary_key=True, serialize=False)),
                ("customers", models.IntegerField(default=0)),
            ],
        ),
        RunSQLOnPostgres(FORWARDS, BACKWARDS),
    ]
