"""The opportunities' owner trigger of 0003 finds the moved deals as a set difference of the
transition tables instead of joining them on the id.

Its test ``EXISTS (old_rows JOIN new_rows ... WHERE owner changed)`` was planned for a fast
first row, a nested loop of one transition table inside the other: when no owner changed, every
row of one was compared with every row of the other. One UPDATE of 52,000 deals (the scale data
set's furthest-stage backfill) ran for more than five minutes, and PL/pgSQL keeps the plan made
at a session's first save, one row against one, for every later statement of any size. ``(id,
owner) EXCEPT (id, owner)`` is hashed or sorted whatever the sizes: linear in the rows, and at
one row still about as cheap as the join.
"""

import importlib

from django.db import migrations

from crm.core.migration_operations import RunSQLOnPostgres

stage_days = importlib.import_module("analytics.migrations.0003_stage_days")

# The rows a statement changed the owner of: the old owner's with -1, the new owner's with +1.
MOVED_ROWS = """
    SELECT (v.left_at AT TIME ZONE zone)::date AS day, moved.owner_id, v.stage_id,
        moved.sign AS n,
        moved.sign * (EXTRACT(EPOCH FROM v.left_at - v.entered_at) * 1000000)::bigint AS micros
    FROM (
        SELECT id, owner_id, -1 AS sign FROM (
            SELECT id, owner_id FROM old_rows EXCEPT SELECT id, owner_id FROM new_rows
        ) AS away
        UNION ALL
        SELECT id, owner_id, 1 AS sign FROM (
            SELECT id, owner_id FROM new_rows EXCEPT SELECT id, owner_id FROM old_rows
        ) AS to_new
    ) AS moved
    JOIN opportunities_stagevisit AS v ON v.opportunity_id = moved.id
    WHERE v.left_at IS NOT NULL
"""

FORWARDS = f"""
CREATE OR REPLACE FUNCTION analytics_stage_day_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE zone text;
BEGIN
    IF EXISTS (
        SELECT id, owner_id FROM new_rows EXCEPT SELECT id, owner_id FROM old_rows
    ) THEN
        zone := analytics_zone();
        {stage_days.STAGE_UPSERT.format(changes=MOVED_ROWS)}
    END IF;
    RETURN NULL;
END $$;
"""

BACKWARDS = stage_days.OWNER_CHANGED.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
).split("CREATE TRIGGER")[0]


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_stage_days"),
    ]

    operations = [
        RunSQLOnPostgres(FORWARDS, BACKWARDS),
    ]
