"""Migration operations for what only Postgres has, so the project still migrates on SQLite."""

from typing import Any

from django.db.migrations.operations import RunSQL


class RunSQLOnPostgres(RunSQL):
    """``RunSQL`` run on Postgres only, e.g. trigram (pg_trgm) indexes on an expression that
    Django's index classes cannot spell. Elsewhere it does nothing: the queries it serves work
    without it, only slower."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
