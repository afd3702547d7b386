"""A burst through real daemon processes and RabbitMQ: killed mid-burst, or run twice.

The guarantees the pipelined, claim-ahead dispatch must keep: a SIGKILL in the middle of
a burst loses no row (marks commit only after confirms, so the unconfirmed ones are due
again for the next daemon), and two replicas on one table publish no row twice (SKIP
LOCKED keeps every claim, including the ones made ahead, apart).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pika
import psycopg
import pytest

from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY
from tests.fixtures.rabbitmq import own_vhost, vhost_url

pytestmark = pytest.mark.integration

ROWS = 6_000
WRAPPER = [sys.executable, "-m", "game_scheduler.scheduler.notification_daemon_wrapper"]


@pytest.fixture
def fresh_vhost_url() -> Iterator[str]:
    """A vhost of this test's own: each test counts every message in `bot_events`."""
    with own_vhost("gs-burst") as name:
        yield vhost_url(name)


def _daemon(database_url: str, rabbitmq_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(WRAPPER, env=env, stdout=subprocess.DEVNULL)


def _due_burst(database_url: str, in_seconds: float) -> set[str]:
    """ROWS reminders due together, `in_seconds` from now by the database clock."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        game = conn.execute(
            "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at) "
            "VALUES (1, 2, 3, 'burst', now() + interval '1 day') RETURNING id"
        ).fetchone()
        assert game is not None
        rows = conn.execute(
            "INSERT INTO notification_schedule (game_id, reminder_minutes, notification_time) "
            "SELECT %s, g, now() + make_interval(secs => %s) FROM generate_series(1, %s) g "
            "RETURNING id",
            (game[0], in_seconds, ROWS),
        ).fetchall()
    return {str(row[0]) for row in rows}


def _marked(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM notification_schedule WHERE sent").fetchone()
    assert row is not None
    return int(row[0])


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError("timed out")


def _drain(rabbitmq_url: str) -> list[str]:
    """Every message_id in `bot_events`, duplicates included, in arrival order."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    try:
        channel = connection.channel()
        ids: list[str] = []
        for _method, properties, _body in channel.consume(
            DEFAULT_TOPOLOGY.queue, auto_ack=True, inactivity_timeout=1.0
        ):
            if properties is None:
                break
            ids.append(str(properties.message_id))
        channel.cancel()
        return ids
    finally:
        connection.close()


def test_a_daemon_killed_mid_burst_loses_no_row(database_url: str, fresh_vhost_url: str) -> None:
    expected = _due_burst(database_url, in_seconds=2.0)
    first = _daemon(database_url, fresh_vhost_url)
    try:
        # Kill it with some batches committed and others claimed, sent, unconfirmed.
        _wait_until(lambda: _marked(database_url) > 0, timeout=20)
        first.kill()
        first.wait(10)
        left = ROWS - _marked(database_url)
        assert left > 0, "the burst finished before the kill; nothing was tested"
    finally:
        if first.poll() is None:
            first.kill()
    second = _daemon(database_url, fresh_vhost_url)
    try:
        _wait_until(lambda: _marked(database_url) == ROWS, timeout=30)
    finally:
        second.terminate()
        second.wait(10)
    received = _drain(fresh_vhost_url)
    # At least once: a batch sent but not confirmed before the kill goes out again.
    assert set(received) == expected


def test_two_replicas_on_one_burst_publish_every_row_once(
    database_url: str, fresh_vhost_url: str
) -> None:
    replicas = [_daemon(database_url, fresh_vhost_url) for _ in range(2)]
    try:
        time.sleep(1.5)  # both connect, listen and sleep
        expected = _due_burst(database_url, in_seconds=1.0)
        _wait_until(lambda: _marked(database_url) == ROWS, timeout=30)
    finally:
        for replica in replicas:
            replica.terminate()
        for replica in replicas:
            replica.wait(10)
    received = _drain(fresh_vhost_url)
    assert len(received) == ROWS
    assert set(received) == expected
    assert all(replica.returncode == 0 for replica in replicas)
