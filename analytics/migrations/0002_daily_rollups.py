"""Daily rollups of follow-up records and tasks, kept by Postgres statement triggers.

Each trigger reads the statement's changed rows (transition tables) and adds or takes away their
counts per day in one upsert, in the writer's transaction: exact whatever wrote the rows (a
service, ``QuerySet.update``, COPY). Days are the company's time zone's (``analytics_zone()``);
changing it rebuilds both tables. Keys are upserted in order, so two writers lock shared rows in
the same order. On SQLite nothing of this exists and the dashboard counts the rows themselves.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.core.migration_operations import RunSQLOnPostgres

# The day of a timestamp in the company's time zone (the settings row, or its default).
ZONE = """
CREATE FUNCTION analytics_zone() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT time_zone FROM core_companysettings ORDER BY id LIMIT 1), 'Asia/Shanghai'
    )
$$;
"""

# (day, owner, method) -> records: +1 per new row, -1 per old one.
RECORD_ROWS = """
    SELECT (occurred_at AT TIME ZONE zone)::date AS day, owner_id, method_id, {sign} AS n
    FROM {rows}
"""
RECORD_UPSERT = """
    INSERT INTO analytics_recordday AS r (day, owner_id, method_id, records)
    SELECT day, owner_id, method_id, sum(n) FROM ({changes}) AS change
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (day, owner_id, method_id) DO UPDATE SET records = r.records + excluded.records;
"""

# (day, owner) -> done by the due time, done later, not done; cancelled tasks count nowhere.
TASK_ROWS = """
    SELECT (due_at AT TIME ZONE zone)::date AS day, owner_id,
        {sign} * (status = 'done' AND completed_at <= due_at)::int AS on_time,
        {sign} * (status = 'done' AND completed_at > due_at)::int AS late,
        {sign} * (status = 'pending')::int AS missed
    FROM {rows} WHERE status <> 'cancelled'
"""
TASK_UPSERT = """
    INSERT INTO analytics_taskday AS t (day, owner_id, on_time, late, missed)
    SELECT day, owner_id, sum(on_time), sum(late), sum(missed) FROM ({changes}) AS change
    GROUP BY 1, 2 HAVING sum(on_time) <> 0 OR sum(late) <> 0 OR sum(missed) <> 0
    ORDER BY 1, 2
    ON CONFLICT (day, owner_id) DO UPDATE SET
        on_time = t.on_time + excluded.on_time,
        late = t.late + excluded.late,
        missed = t.missed + excluded.missed;
"""


def trigger_function(name: str, rows: str, upsert: str) -> str:
    inserted = rows.format(sign="1", rows="new_rows")
    deleted = rows.format(sign="-1", rows="old_rows")
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE zone text := analytics_zone();
BEGIN
    IF TG_OP = 'INSERT' THEN
        {upsert.format(changes=inserted)}
    ELSIF TG_OP = 'DELETE' THEN
        {upsert.format(changes=deleted)}
    ELSE
        {upsert.format(changes=inserted + " UNION ALL " + deleted)}
    END IF;
    RETURN NULL;
END $$;
"""


def triggers(table: str, function: str) -> str:
    return "".join(
        f"""
CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}
    REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""
        for event, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        )
    )


# Both tables from scratch, with their sources' writers held off meanwhile.
REBUILD = f"""
CREATE FUNCTION analytics_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE zone text := analytics_zone();
BEGIN
    LOCK TABLE followups_followuprecord, followups_followuptask IN SHARE MODE;
    DELETE FROM analytics_recordday;
    DELETE FROM analytics_taskday;
    {RECORD_UPSERT.format(changes=RECORD_ROWS.format(sign="1", rows="followups_followuprecord"))}
    {TASK_UPSERT.format(changes=TASK_ROWS.format(sign="1", rows="followups_followuptask"))}
END $$;

CREATE FUNCTION analytics_zone_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analytics_rollups_rebuild();
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_zone_changed AFTER UPDATE OF time_zone ON core_companysettings
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone)
    EXECUTE FUNCTION analytics_zone_changed();
CREATE TRIGGER analytics_zone_set AFTER INSERT ON core_companysettings
    FOR EACH ROW WHEN (NEW.time_zone <> 'Asia/Shanghai')
    EXECUTE FUNCTION analytics_zone_changed();
"""

FORWARDS = (
    ZONE
    + trigger_function("analytics_record_day", RECORD_ROWS, RECORD_UPSERT)
    + triggers("followups_followuprecord", "analytics_record_day")
    + trigger_function("analytics_task_day", TASK_ROWS, TASK_UPSERT)
    + triggers("followups_followuptask", "analytics_task_day")
    + REBUILD
    + "SELECT analytics_rollups_rebuild();"
)

BACKWARDS = """
DROP TRIGGER analytics_zone_changed ON core_companysettings;
DROP TRIGGER analytics_zone_set ON core_companysettings;
DROP FUNCTION analytics_zone_changed();
DROP FUNCTION analytics_rollups_rebuild();
DROP TRIGGER analytics_record_day_insert ON followups_followuprecord;
DROP TRIGGER analytics_record_day_update ON followups_followuprecord;
DROP TRIGGER analytics_record_day_delete ON followups_followuprecord;
DROP FUNCTION analytics_record_day();
DROP TRIGGER analytics_task_day_insert ON followups_followuptask;
DROP TRIGGER analytics_task_day_update ON followups_followuptask;
DROP TRIGGER analytics_task_day_delete ON followups_followuptask;
DROP FUNCTION analytics_task_day();
DROP FUNCTION analytics_zone();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("core", "0001_initial"),
        ("followups", "0005_dashboard_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("records", models.IntegerField(default=0)),
                (
                    "method",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="followups.followupmethod",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "owner", "method"), name="record_day_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TaskDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("on_time", models.IntegerField(default=0)),
                ("late", models.IntegerField(default=0)),
                ("missed", models.IntegerField(default=0)),
                (
                    "owner",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("day", "owner"), name="task_day_unique")
                ],
            },
        ),
        RunSQLOnPostgres(FORWARDS, BACKWARDS),
    ]
