"""Timing of a real notifications daemon process: precision, burst and scale.

Creates a fresh database (migrated; dropped afterwards) and a RabbitMQ vhost of its own
(deleted afterwards), starts `python -m game_scheduler.scheduler.notification_daemon_wrapper`
against them (it declares the production topology in the vhost, as in production), and
consumes `bot_events`. Lag = arrival at the consumer minus the row's due time; PostgreSQL,
RabbitMQ and this process share one host, so they share one clock. Prints JSON:

- precision: five runs back to back of 40 rows due 100 ms apart: p50/p99/max lag in ms
  of each (target p99 <= 10 ms in every run); after each, `broker_alone_p99_ms`: the p99
  lag of 40 lone confirmed publishes 100 ms apart without any database, the broker's own
  share at that moment
- burst: 10,000 rows due at one instant: seconds from due to all received and all marked
  `sent`, the first message's lag, and the ratio of all received to `broker_floor_s` (the
  same 10,000 confirmed publishes without any database, measured just before and just
  after the burst, their mean; target <= 1.2, first message <= 10 ms)
- scale: 1,000,000 unprocessed rows due in the future, then precision again, and the idle
  daemon's CPU seconds over 10 s (from /proc/<pid>/stat)

The consumer runs in a process of its own (`_arrivals.py`), so that it does not compete
with this process's timing. One message goes through the new queue before anything is
timed (`warm_up_queue`). `BENCH_LOG_LEVEL=INFO` shows the daemon's own log.

    .venv/bin/python bench/scheduler.py                         # all three, about 1.5 minutes
    .venv/bin/python bench/scheduler.py --case burst --repeat 5  # bursts only, back to back
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import psycopg

from _arrivals import Arrivals
from _support import fresh_database, fresh_vhost, percentile
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.schemas import GameReminderDueEvent

FUTURE_ROWS_SQL = (
    "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time) "
    "SELECT (SELECT id FROM game_sessions LIMIT 1), 100000 + g, "
    "now() + interval '1 day' + make_interval(secs => g) FROM generate_series(1, 1000000) g"
)


PROBE_AFTER_DUE = 0.1  # seconds; the burst takes several times this


def reminders(count: int) -> list[OutgoingMessage]:
    """`count` reminder messages as the daemon would publish them, without any database."""
    now = datetime.now(UTC)
    return [
        OutgoingMessage(
            str(uuid.uuid4()),
            Event(
                event_type=EventType.GAME_REMINDER_DUE,
                data=GameReminderDueEvent(
                    game_id=uuid.uuid4(), reminder_minutes=15, notification_time=now
                ).model_dump(mode="json"),
            ),
        )
        for _ in range(count)
    ]


def warm_up_queue(url: str, consumer: Arrivals) -> None:
    """Send one message through the new vhost's queue before anything is timed.

    A quorum queue's first write opens its log (about 4 ms more for the first message,
    measured): a cost of the queue's first minute in production, not of each due row.
    """
    publisher = PikaPublisher(url)
    [message] = reminders(1)
    publisher.publish_batch([message])
    publisher.close()
    consumer.wait_for({message.message_id}, timeout=10)


def broker_floor(url: str) -> float:
    """Seconds PikaPublisher alone needs for 10,000 reminders in batches of 500, same vhost."""
    publisher = PikaPublisher(url)
    messages = reminders(10_000)
    publisher.connect()
    started = time.monotonic()
    for i in range(0, len(messages), 500):
        publisher.publish_batch(messages[i : i + 500])
    elapsed = time.monotonic() - started
    publisher.close()
    return elapsed


def broker_alone(url: str, consumer: Arrivals) -> float:
    """p99 lag in ms of 40 lone confirmed publishes 100 ms apart, without any database.

    Run beside each precision run: the quorum queue's commit (an fsync on this machine's
    shared disk) is most of a row's lag, and its slow spells come and go within minutes.
    """
    publisher = PikaPublisher(url)
    publisher.connect()
    sent: dict[str, float] = {}
    for message in reminders(40):
        time.sleep(0.1)
        sent[message.message_id] = time.time()
        publisher.publish_batch([message])
    publisher.close()
    consumer.wait_for(set(sent), timeout=15)
    lags = [
        (consumer.arrived[i].timestamp() - at) * 1000
        for i, at in sent.items()
        if i in consumer.arrived
    ]
    return round(percentile(lags, 99), 2)


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
    conn: psycopg.Connection[tuple[object, ...]], consumer: Arrivals, tag: int
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
    conn: psycopg.Connection[tuple[object, ...]], consumer: Arrivals, tag: int
) -> dict[str, float]:
    """10,000 rows due at one instant 2 s ahead: seconds until all arrived and all marked."""
    # Each burst starts from a table as autovacuum leaves it (bursts run back to back with
    # --repeat would otherwise each walk the index entries of every burst before), and the
    # bulk insert's WAL is not written out mid-burst.
    conn.execute("VACUUM ANALYZE notification_schedule")
    conn.execute("CHECKPOINT")
    due = insert_reminders(conn, [2.0] * 10_000, tag)
    due_at = next(iter(due.values()))
    marked_at = None
    deadline = time.monotonic() + 30
    # The probe starts once the first messages are out: polling from the start would take
    # a core from the daemon at the moment the first-message lag is measured.
    time.sleep(max((due_at - datetime.now(UTC)).total_seconds() + PROBE_AFTER_DUE, 0))
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


def burst_with_floor(
    conn: psycopg.Connection[tuple[object, ...]], consumer: Arrivals, url: str, tag: int
) -> dict[str, float]:
    """One burst between two runs of the same 10,000 confirmed publishes without any
    database; the floor is their mean. The broker's own pace drifts by a quarter within
    minutes on this kind of VM (its disk's syncs stall now and then), so one floor
    measured beside the burst moved the ratio by as much as the daemon's own cost."""
    before = broker_floor(url)
    burst_result = burst(conn, consumer, tag)
    after = broker_floor(url)
    floor = (before + after) / 2
    return {
        **burst_result,
        "broker_floor_s": round(floor, 3),
        "broker_floor_before_after_s": [round(before, 3), round(after, 3)],
        "ratio_to_floor": round(burst_result["all_received_s"] / floor, 2),
        "target_ratio": 1.2,
        "target_first_ms": 10,
    }


def scale(
    conn: psycopg.Connection[tuple[object, ...]], consumer: Arrivals, daemon_pid: int
) -> dict[str, float]:
    """Precision again behind 1,000,000 future rows, then the idle daemon's CPU."""
    insert_reminders(conn, [], 0)  # the game the future rows belong to (--case scale alone)
    started = time.monotonic()
    conn.execute(FUTURE_ROWS_SQL)
    inserted_s = time.monotonic() - started
    # VACUUM as well: autovacuum would otherwise start on the million new rows during the
    # timed rows (PostgreSQL 13+ vacuums after inserts) and share the two cores with them;
    # then a CHECKPOINT, so that writing out what the two wrote does not happen then either.
    conn.execute("VACUUM ANALYZE notification_schedule")
    conn.execute("CHECKPOINT")
    timed = precision(conn, consumer, 20_000)
    time.sleep(1.0)
    cpu_before, window = cpu_seconds(daemon_pid), time.monotonic()
    time.sleep(10.0)
    idle_cpu = cpu_seconds(daemon_pid) - cpu_before
    return {
        "future_rows": 1_000_000,
        "insert_s": round(inserted_s, 1),
        **timed,
        "idle_cpu_seconds": round(idle_cpu, 3),
        "idle_window_s": round(time.monotonic() - window, 1),
    }


def main() -> None:
    """Run the measurements against a real daemon process and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--case", choices=["all", "precision", "burst", "scale"], default="all")
    parser.add_argument(
        "--repeat", type=int, default=1, help="bursts back to back (with --case burst)"
    )
    args = parser.parse_args()
    with fresh_database() as database_url, fresh_vhost() as rabbitmq_url:
        consumer = Arrivals(rabbitmq_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": rabbitmq_url,
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        daemon = subprocess.Popen(
            [sys.executable, "-m", "game_scheduler.scheduler.notification_daemon_wrapper"], env=env
        )
        result: dict[str, object] = {}
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                time.sleep(1.0)  # the daemon connects, listens and goes to sleep
                warm_up_queue(rabbitmq_url, consumer)
                if args.case in ("all", "precision"):
                    runs = [
                        {
                            **precision(conn, consumer, 100 * run),
                            "broker_alone_p99_ms": broker_alone(rabbitmq_url, consumer),
                        }
                        for run in range(5)
                    ]
                    result["precision"] = {
                        "runs": runs,
                        "p99_ms_each": [run["p99_ms"] for run in runs],
                        "broker_alone_p99_ms_each": [run["broker_alone_p99_ms"] for run in runs],
                        "target_p99_ms": 10,
                    }
                if args.case == "burst" and args.repeat > 1:
                    bursts = [
                        burst_with_floor(conn, consumer, rabbitmq_url, 1_000 + 10_000 * n)
                        for n in range(args.repeat)
                    ]
                    result["bursts"] = bursts
                    result["first_received_ms_each"] = [b["first_received_ms"] for b in bursts]
                    result["ratio_to_floor_each"] = [b["ratio_to_floor"] for b in bursts]
                elif args.case in ("all", "burst"):
                    result["burst"] = burst_with_floor(conn, consumer, rabbitmq_url, 1_000)
                if args.case in ("all", "scale"):
                    result["scale"] = scale(conn, consumer, daemon.pid)
        finally:
            daemon.terminate()
            result["daemon_exit_code"] = daemon.wait(15)
            consumer.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
