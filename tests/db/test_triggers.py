"""Unprocessed schedule rows wake a LISTENer; processed ones do not; a bulk insert wakes once."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

pytestmark = pytest.mark.integration

CHANNELS = {
    "notification_schedule": ("notification_schedule_changed", "sent"),
    "game_status_schedule": ("game_status_schedule_changed", "executed"),
    "event_outbox": ("event_outbox_changed", "published"),
}


@pytest.fixture
def game_id(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at)"
            " VALUES (1, 2, 3, 't', now() + interval '1 day') RETURNING id"
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def listener(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    conn = psycopg.connect(database_url, autocommit=True)
    for channel, _ in CHANNELS.values():
        conn.execute(f"LISTEN {channel}")
    yield conn
    conn.close()


def _insert_sql(table: str, processed: bool) -> str:
    flag = CHANNELS[table][1]
    if table == "notification_schedule":
        return (
            "INSERT INTO notification_schedule"
            f" (game_id, reminder_minutes, notification_time, {flag})"
            f" SELECT %(game)s, g, now(), {processed} FROM generate_series(1, %(n)s) g"
        )
    if table == "game_status_schedule":
        # One row per status is all the unique constraint allows; n is 1 here.
        return (
            f"INSERT INTO game_status_schedule (game_id, target_status, transition_time, {flag})"
            f" SELECT %(game)s, 'IN_PROGRESS', now(), {processed} FROM generate_series(1, %(n)s)"
        )
    return (
        f"INSERT INTO event_outbox (event_type, payload, {flag})"
        f" SELECT 'game.updated', jsonb_build_object('game_id', %(game)s::text), {processed}"
        " FROM generate_series(1, %(n)s)"
    )


def _drain(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    return [n.channel for n in conn.notifies(timeout=0.3)]


@pytest.mark.parametrize("table", list(CHANNELS))
def test_insert_and_update_of_unprocessed_rows_notify_processed_do_not(
    table: str, database_url: str, game_id: str, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    channel, flag = CHANNELS[table]
    with psycopg.connect(database_url) as conn:
        conn.execute(_insert_sql(table, processed=False), {"game": game_id, "n": 1})
    assert _drain(listener) == [channel]

    with psycopg.connect(database_url) as conn:
        conn.execute(f"UPDATE {table} SET {flag} = true")
    assert _drain(listener) == []

    with psycopg.connect(database_url) as conn:
        conn.execute(f"UPDATE {table} SET {flag} = false")
    assert _drain(listener) == [channel]

    with psycopg.connect(database_url) as conn:
        conn.execute(f"DELETE FROM {table}")
        conn.execute(_insert_sql(table, processed=True), {"game": game_id, "n": 1})
    assert _drain(listener) == []


@pytest.mark.parametrize("table", ["notification_schedule", "event_outbox"])
def test_a_bulk_insert_of_1000_rows_notifies_once(
    table: str, database_url: str, game_id: str, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(_insert_sql(table, processed=False), {"game": game_id, "n": 1000})
    assert _drain(listener) == [CHANNELS[table][0]]


def test_nothing_is_delivered_before_commit(
    database_url: str, game_id: str, listener: psycopg.Connection[tuple[object, ...]]
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(_insert_sql("event_outbox", processed=False), {"game": game_id, "n": 1})
        assert _drain(listener) == []
        conn.rollback()
    assert _drain(listener) == []
