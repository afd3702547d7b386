"""Helpers for the scheduler tests: rows inserted by the database clock, daemons in threads."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from game_scheduler.db.models import (
    EventOutbox,
    GameStatusSchedule,
    NotificationSchedule,
    SeriesSchedule,
)
from game_scheduler.messaging.events import Event
from game_scheduler.messaging.publisher import EventPublisher, SentBatch
from game_scheduler.scheduler.event_builders import (
    build_game_reminder_event,
    build_outbox_event,
    build_series_due_event,
    build_status_transition_event,
)
from game_scheduler.scheduler.generic_scheduler_daemon import SchedulerDaemon
from game_scheduler.scheduler.runner import build_daemon
from game_scheduler.testing import FakePublisher


@dataclass(frozen=True)
class ScheduleKind:
    """One daemon instance's parameters, as the wrappers pass them."""

    name: str
    notify_channel: str
    model_class: type[Any]
    time_field: str
    status_field: str
    event_builder: Callable[[Any], Event]


NOTIFICATIONS = ScheduleKind(
    "notification_schedule",
    "notification_schedule_changed",
    NotificationSchedule,
    "notification_time",
    "sent",
    build_game_reminder_event,
)
STATUS_TRANSITIONS = ScheduleKind(
    "game_status_schedule",
    "game_status_schedule_changed",
    GameStatusSchedule,
    "transition_time",
    "executed",
    build_status_transition_event,
)
OUTBOX = ScheduleKind(
    "event_outbox",
    "event_outbox_changed",
    EventOutbox,
    "available_at",
    "published",
    build_outbox_event,
)
# The fourth use (repeating games): only parameters, like the other three.
SERIES = ScheduleKind(
    "series_schedule",
    "series_schedule_changed",
    SeriesSchedule,
    "materialize_at",
    "processed",
    build_series_due_event,
)
ALL_KINDS = (NOTIFICATIONS, STATUS_TRANSITIONS, OUTBOX, SERIES)


def insert_rows(
    database_url: str, kind: ScheduleKind, count: int, *, in_seconds: float = 0.0
) -> list[tuple[uuid.UUID, datetime]]:
    """Insert `count` rows due `in_seconds` from the database's now(); returns (id, due)."""
    due = f"clock_timestamp() + make_interval(secs => {in_seconds!r})"
    with psycopg.connect(database_url, autocommit=True) as conn:
        if kind is OUTBOX:
            sql = (
                "INSERT INTO event_outbox (event_type, payload, available_at) "
                f"SELECT 'game.updated', jsonb_build_object('game_id', gen_random_uuid()), {due} "
                "FROM generate_series(1, %s) RETURNING id, available_at"
            )
            return [(r[0], r[1]) for r in conn.execute(sql, (count,)).fetchall()]
        if kind is SERIES:
            sql = (
                "WITH s AS (INSERT INTO game_series (guild_id, channel_id, host_id, rrule, "
                "timezone, local_start, title) SELECT 1, 2, 3, 'FREQ=WEEKLY', 'UTC', "
                "localtimestamp, 'series ' || g FROM generate_series(1, %s) g RETURNING id) "
                f"INSERT INTO series_schedule (series_id, materialize_at) SELECT id, {due} FROM s "
                "RETURNING id, materialize_at"
            )
            return [(r[0], r[1]) for r in conn.execute(sql, (count,)).fetchall()]
        games = conn.execute(
            "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at) "
            "SELECT 1, 2, 3, 'game ' || g, now() + interval '1 day' "
            "FROM generate_series(1, %s) g RETURNING id",
            (count,),
        ).fetchall()
        ids = [g[0] for g in games]
        if kind is NOTIFICATIONS:
            sql = (
                "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time) "
                f"SELECT g, 15, {due} FROM unnest(%s::uuid[]) g RETURNING id, notification_time"
            )
        else:
            sql = (
                "INSERT INTO game_status_schedule (game_id, target_status, transition_time) "
                f"SELECT g, 'IN_PROGRESS', {due} FROM unnest(%s::uuid[]) g "
                "RETURNING id, transition_time"
            )
        return [(r[0], r[1]) for r in conn.execute(sql, (ids,)).fetchall()]


def unprocessed(database_url: str, kind: ScheduleKind) -> int:
    """How many rows of the table are not yet processed."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {kind.name} WHERE NOT {kind.status_field}"
        ).fetchone()
        assert row is not None
        return int(row[0])


class TimedPublisher(FakePublisher):
    """A FakePublisher that notes when each message was confirmed, and can be slowed down."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay  # seconds each batch takes
        self.confirmed_at: dict[str, datetime] = {}
        self.gate = threading.Event()
        self.gate.set()

    def wait_confirmed(self, batch: SentBatch) -> None:
        """Wait for the gate and the delay, then confirm like FakePublisher."""
        self.gate.wait()
        if self.delay:
            time.sleep(self.delay)
        super().wait_confirmed(batch)
        now = datetime.now(UTC)
        for message_id in batch.message_ids:
            self.confirmed_at.setdefault(message_id, now)


def make_daemon(
    database_url: str,
    kind: ScheduleKind,
    *,
    publisher: EventPublisher | None = None,
    **kwargs: Any,
) -> SchedulerDaemon:
    """A daemon for `kind` with its own metrics registry and (by default) a FakePublisher."""
    kwargs.setdefault("registry", CollectorRegistry())
    return build_daemon(
        database_url,
        "amqp://unused",
        kind.notify_channel,
        kind.model_class,
        kind.time_field,
        kind.status_field,
        kind.event_builder,
        kwargs.pop("max_timeout", 900.0),
        publisher=publisher if publisher is not None else FakePublisher(),
        **kwargs,
    )


@contextmanager
def running(daemon: SchedulerDaemon, *, settle: float = 0.2) -> Iterator[threading.Thread]:
    """Run the daemon in a thread for the block, then stop it and require a clean exit."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            daemon.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    time.sleep(settle)  # let it LISTEN and go to sleep
    try:
        yield thread
    finally:
        daemon.stop()
        thread.join(10)
    assert not thread.is_alive(), "run() did not return after stop()"
    assert not errors, errors


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `predicate` until true, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.005)
