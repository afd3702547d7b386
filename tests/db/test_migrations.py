"""The migrations build the schema the models describe, and can be undone."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from game_scheduler.db.migrate import alembic_config, downgrade, ensure_database, migrate
from game_scheduler.db.models import Base

pytestmark = pytest.mark.integration

TABLES = {
    "game_sessions",
    "game_participants",
    "notification_schedule",
    "game_status_schedule",
    "event_outbox",
    "processed_messages",
    "guild_settings",
    "user_settings",
    "web_sessions",
    "game_series",
    "series_schedule",
}


def test_models_match_the_migrated_schema(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_empty_and_back(database_url: str, db_engine: Engine) -> None:
    downgrade(database_url, "base")
    assert set(inspect(db_engine).get_table_names()) & TABLES == set()
    migrate(database_url)
    db_engine.dispose()
    assert set(inspect(db_engine).get_table_names()) >= TABLES


def test_migrate_creates_a_missing_database_and_is_safe_to_repeat(database_url: str) -> None:
    fresh = database_url.rsplit("/", 1)[0] + f"/gs_test_fresh_{uuid.uuid4().hex[:8]}"
    try:
        migrate(fresh)
        migrate(fresh)
        assert ensure_database(fresh) is False
        with psycopg.connect(fresh) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert row == (ScriptDirectory.from_config(alembic_config()).get_current_head(),)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {fresh.rsplit('/', 1)[1]} WITH (FORCE)")


def test_minimal_plain_sql_rows_are_valid(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        inserted = conn.execute(
            "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at)"
            " VALUES (1, 2, 3, 't', now() + interval '1 day') RETURNING id"
        ).fetchone()
        assert inserted is not None
        game_id = inserted[0]
        conn.execute("INSERT INTO game_participants (game_id, user_id) VALUES (%s, 4)", (game_id,))
        conn.execute(
            "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time)"
            " VALUES (%s, 15, now())",
            (game_id,),
        )
        conn.execute(
            "INSERT INTO game_status_schedule (game_id, target_status, transition_time)"
            " VALUES (%s, 'IN_PROGRESS', now())",
            (game_id,),
        )
        conn.execute("INSERT INTO event_outbox (event_type, payload) VALUES ('game.created', '{}')")
        row = conn.execute("SELECT status, reminder_minutes FROM game_sessions").fetchone()
    assert row is not None
    status, reminders = row
    assert (status, reminders) == ("SCHEDULED", [60, 15])
