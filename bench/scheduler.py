"""Timing of a real notifications daemon process: precision, burst and scale.

Creates a fresh database (migrated; dropped afterwards) and a RabbitMQ vhost of its own
(deleted afterwards), starts `python -m game_scheduler.scheduler.notification_daemon_wrapper`
against them (it declares the production topology in the vhost, as in production), and
consumes `bot_events`. Lag = arrival at the consumer minus the row's due time; PostgreSQL,
RabbitMQ and this process share one host, so they share one clock. Prints JSON:

- precision: 40 rows due 100 ms apart: p50/p99/max lag in ms (target p99 <= 10 ms)
- burst: 10,000 rows due at one instant: seconds from due to all received and all marked
  `sent` (target <= 1.0 s)
- scale: 1,000,000 unprocessed rows due in the future, then precision again, and the idle
  daemon's CPU seconds over 10 s (from /proc/<pid>/stat)

    .venv/bin/python bench/scheduler.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import pika
import psycopg

from _support import fresh_database, fresh_vhost, percentile
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.schemas import GameReminderDueEvent
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY, declare_blocking

FUTURE_ROWS_SQL = (
    "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time) "
    "SELECT (SELECT id FROM game_sessions LIMIT 1), 100000 + g, "
    "now() + interval '1 day' + make_interval(secs => g) FROM generate_series(1, 1000000) g"
)


def broker_floor(url: str) -> float:
    """Seconds PikaPublisher alone needs for 10,000 reminders in batches of 500, same vhost."""
    publisher = PikaPublisher(url)
    now = datetime.now(UTC)
    messages = [
        OutgoingMessage(
            str(uuid.uuid4()),
            Event(
                event_type=EventType.GAME_REMINDER_DUE,
                data=GameReminderDueEvent(
                    game_id=uuid.uuid4(), reminder_minutes=15, notification_time=now
                ).to_data(),
            ),
        )
        for _ in range(10_000)
    ]
    publisher.connect()
    started = time.monotonic()
    for i in range(0, len(messages), 500):
        publisher.publish_batch(messages[i : i + 500])
    elapsed = time.monotonic() - started
    publisher.close()
    return elapsed


class Consumer:
    """Consumes `bot_events` on its own thread and notes when each message_id arrived."""

    def __init__(self, url: str) -> None:
        self.arrived: dict[str, datetime] = {}
        self._connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = self._connection.channel()
        declare_blocking(channel, DEFAULT_TOPOLOGY)
        channel.basic_qos(prefetch_count=1000)
        channel.basic_consume(DEFAULT_TOPOLOGY.queue, self._on_message, auto_ack=True)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _on_message(
        self, _ch: object, _m: object, properties: pika.BasicProperties, _b: bytes
    ) -> None:
        self.arrived.setdefault(str(properties.message_id), datetime.now(UTC))

    def _run(self) -> None:
        while not self._stop:
            self._connection.process_data_events(time_limit=0.05)
        self._connection.close()

    def wait_for(self, ids: set[str], timeout: float) -> None:
        """Block until every id has arrived, or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not ids <= self.arrived.keys() and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Stop consuming."""
        self._stop = True
        self._thread.join(5)


def insert_reminders(
    conn: psycopg.Connection[tuple[object, ...]], offsets_s: list[float], first_minutes: int
) -> dict[str, datetime]:
    """Reminder rows due at now() + each offset (DB clock); returns {id: due}."""
    game = conn.execute(
        "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at) "
        "VALUES (1, 2, 3, 'bench', now() + interval '1 day') RETURNING id"
    ).fetchone()
    assert game is not None
    rows = conn.execute(
        "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time) "
        "SELECT %s, %s + o.n, now() + make_interval(secs => o.s) "
        "FROM unnest(%s::float8[]) WITH ORDINALITY AS o(s, n) RETURNING id, notification_time",
        (game[0], first_minutes, offsets_s),
    ).fetchall()
    return {str(r[0]): r[1] for r in rows}


def precision(
    conn: psycopg.Connection[tuple[object, ...]], consumer: Consumer, tag: int
) -> dict[str, float]:
    """40 rows due 100 ms apart from 1 s ahead: lag percentiles in ms."""
    due = insert_reminders(conn, [1.0 + 0.1 * i for i in range(40)], tag)
    consumer.wait_for(set(due), timeout=15)
    lags = [
        (consumer.arrived[i] - d).total_seconds() * 1000
        for i, d in due.items()
        if i in consumer.arrived
    ]
    return {
        "rows": len(due),
        "received": len(lags),
        "p50_ms": round(percentile(lags, 50), 2),
        "p99_ms": round(percentile(lags, 99), 2),
        "max_ms": round(max(lags), 2),
        "min_ms": round(min(lags), 2),
    }


def burst(
    conn: psycopg.Connection[tuple[object, ...]], consumer: Consumer, tag: int
) -> dict[str, float]:
    """10,000 rows due at one instant 2 s ahead: seconds until all arrived and all marked."""
    conn.execute("CHECKPOINT")  # the bulk insert's WAL is not written out mid-burst
    due = insert_reminders(conn, [2.0] * 10_000, tag)
    due_at = next(iter(due.values()))
    marked_at = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        # EXISTS stops at the first unsent row: a cheap probe, so that measuring the burst
        # takes as little as possible of the two cores the daemon and the broker share.
        left = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM notification_schedule"
            " WHERE NOT sent AND notification_time <= %s)",
            (due_at,),
        ).fetchone()
        if left == (False,) and datetime.now(UTC) >= due_at:
            marked_at = datetime.now(UTC)
            break
        time.sleep(0.01)
    consumer.wait_for(set(due), timeout=30)
    arrivals = [consumer.arrived[i] for i in due if i in consumer.arrived]
    return {
        "rows": len(due),
        "received": len(arrivals),
        "all_received_s": round((max(arrivals) - due_at).total_seconds(), 3),
        "all_marked_s": round((marked_at - due_at).total_seconds(), 3) if marked_at else -1.0,
        "first_received_ms": round((min(arrivals) - due_at).total_seconds() * 1000, 2),
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the three measurements against a real daemon process and print JSON."""
    with fresh_database() as database_url, fresh_vhost() as rabbitmq_url:
        consumer = Consumer(rabbitmq_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": rabbitmq_url,
            "LOG_LEVEL": "WARNING",
        }
        daemon = subprocess.Popen(
            [sys.executable, "-m", "game_scheduler.scheduler.notification_daemon_wrapper"], env=env
        )
        result: dict[str, object] = {}
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                time.sleep(1.0)  # the daemon connects, listens and goes to sleep
                result["precision"] = {**precision(conn, consumer, 0), "target_p99_ms": 10}
                result["burst"] = {**burst(conn, consumer, 1_000), "target_s": 1.0}
                # For context: the same 10,000 confirmed publishes without any database.
                consumer.wait_for(set(), 0)
                result["burst"]["broker_floor_s"] = round(broker_floor(rabbitmq_url), 3)
                started = time.monotonic()
                conn.execute(FUTURE_ROWS_SQL)
                inserted_s = time.monotonic() - started
                conn.execute("ANALYZE notification_schedule")
                scale = precision(conn, consumer, 20_000)
                time.sleep(1.0)
                cpu_before, window = cpu_seconds(daemon.pid), time.monotonic()
                time.sleep(10.0)
                idle_cpu = cpu_seconds(daemon.pid) - cpu_before
                result["scale"] = {
                    "future_rows": 1_000_000,
                    "insert_s": round(inserted_s, 1),
                    **scale,
                    "idle_cpu_seconds": round(idle_cpu, 3),
                    "idle_window_s": round(time.monotonic() - window, 1),
                }
        finally:
            daemon.terminate()
            result["daemon_exit_code"] = daemon.wait(15)
            consumer.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
