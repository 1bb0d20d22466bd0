"""A daily rollup of the stays in a stage that ended, kept by Postgres statement triggers like
the follow-up rollups of 0002: the sales dashboard's time in stage sums a third as many rows as
there are stays (a year of them is ~100,000).

A stay counts for the owner its opportunity has now, as every sales figure does: a trigger on
the stays adds and takes away their rows, one on the opportunities moves the stays of those whose
owner changed. The stage services lock the opportunity before they close a stay, so a stay is
never rolled up for an owner that a concurrent transfer has just replaced. Days are the company's
time zone's (``analytics_zone()``); the rebuild of 0002 now recounts this table too.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.core.migration_operations import RunSQLOnPostgres

daily = importlib.import_module("analytics.migrations.0002_daily_rollups")

# (day, owner, stage) -> stays, microseconds in the stage: +1 per new closed stay, -1 per old.
STAGE_ROWS = """
    SELECT (v.left_at AT TIME ZONE zone)::date AS day, o.owner_id, v.stage_id, {sign} AS n,
        {sign} * (EXTRACT(EPOCH FROM v.left_at - v.entered_at) * 1000000)::bigint AS micros
    FROM {rows} AS v JOIN opportunities_opportunity AS o ON o.id = v.opportunity_id
    WHERE v.left_at IS NOT NULL
"""
STAGE_UPSERT = """
    INSERT INTO analytics_stageday AS s (day, owner_id, stage_id, stays, micros)
    SELECT day, owner_id, stage_id, sum(n), sum(micros) FROM ({changes}) AS change
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(micros) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (day, owner_id, stage_id) DO UPDATE SET
        stays = s.stays + excluded.stays,
        micros = s.micros + excluded.micros;
"""

# The closed stays of the opportunities whose owner changed: away from the old owner, to the new.
MOVED_ROWS = """
    SELECT (v.left_at AT TIME ZONE zone)::date AS day, moved.owner_id, v.stage_id,
        moved.sign AS n,
        moved.sign * (EXTRACT(EPOCH FROM v.left_at - v.entered_at) * 1000000)::bigint AS micros
    FROM (
        SELECT old_rows.id, old_rows.owner_id, -1 AS sign
        FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.owner_id <> old_rows.owner_id
        UNION ALL
        SELECT new_rows.id, new_rows.owner_id, 1 AS sign
        FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.owner_id <> old_rows.owner_id
    ) AS moved
    JOIN opportunities_stagevisit AS v ON v.opportunity_id = moved.id
    WHERE v.left_at IS NOT NULL
"""
# Every save of an opportunity runs it: the test for a new owner first keeps that to ~0.05 ms.
OWNER_CHANGED = f"""
CREATE FUNCTION analytics_stage_day_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE zone text;
BEGIN
    IF EXISTS (
        SELECT FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE new_rows.owner_id <> old_rows.owner_id
    ) THEN
        zone := analytics_zone();
        {STAGE_UPSERT.format(changes=MOVED_ROWS)}
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_stage_day_owner AFTER UPDATE ON opportunities_opportunity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_stage_day_owner();
"""


def rebuild(*, stages: bool) -> str:
    """0002's rebuild of the follow-up rollups, and with ``stages`` of this one too."""
    sources = "followups_followuprecord, followups_followuptask"
    tables = ["analytics_recordday", "analytics_taskday"]
    upserts = [
        daily.RECORD_UPSERT.format(
            changes=daily.RECORD_ROWS.format(sign="1", rows="followups_followuprecord")
        ),
        daily.TASK_UPSERT.format(
            changes=daily.TASK_ROWS.format(sign="1", rows="followups_followuptask")
        ),
    ]
    if stages:
        sources += ", opportunities_opportunity, opportunities_stagevisit"
        tables.append("analytics_stageday")
        upserts.append(
            STAGE_UPSERT.format(
                changes=STAGE_ROWS.format(sign="1", rows="opportunities_stagevisit")
            )
        )
    deletes = "".join(f"DELETE FROM {table};\n    " for table in tables)
    return f"""
CREATE OR REPLACE FUNCTION analytics_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE zone text := analytics_zone();
BEGIN
    LOCK TABLE {sources} IN SHARE MODE;
    {deletes}{"".join(upserts)}
END $$;
"""


FORWARDS = (
    daily.trigger_function("analytics_stage_day", STAGE_ROWS, STAGE_UPSERT)
    + daily.triggers("opportunities_stagevisit", "analytics_stage_day")
    + OWNER_CHANGED
    + rebuild(stages=True)
    + "SELECT analytics_rollups_rebuild();"
)

BACKWARDS = (
    rebuild(stages=False)
    + """
DROP TRIGGER analytics_stage_day_owner ON opportunities_opportunity;
DROP FUNCTION analytics_stage_day_owner();
DROP TRIGGER analytics_stage_day_insert ON opportunities_stagevisit;
DROP TRIGGER analytics_stage_day_update ON opportunities_stagevisit;
DROP TRIGGER analytics_stage_day_delete ON opportunities_stagevisit;
DROP FUNCTION analytics_stage_day();
"""
)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0002_daily_rollups'),
        ('opportunities', '0007_dashboard_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StageDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('stays', models.IntegerField(default=0)),
                ('micros', models.BigIntegerField(default=0)),
                ('owner', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('stage', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='opportunities.stage')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'owner', 'stage'), name='stage_day_unique')],
            },
        ),
        RunSQLOnPostgres(FORWARDS, BACKWARDS),
    ]
