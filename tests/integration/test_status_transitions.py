"""Status transitions end to end: rows in PostgreSQL, the daemon, events in RabbitMQ."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from game_scheduler.db.models import GameStatusSchedule
from game_scheduler.messaging.publisher import PikaPublisher
from game_scheduler.messaging.topology import Topology
from game_scheduler.scheduler.event_builders import build_status_transition_event
from game_scheduler.scheduler.generic_scheduler_daemon import SchedulerDaemon
from game_scheduler.scheduler.runner import build_daemon
from tests.fixtures.rabbitmq import RabbitProbe, close_all_connections

pytestmark = pytest.mark.integration


def _schedule_game(database_url: str, start_in: float, end_in: float) -> dict[str, datetime]:
    """A game with IN_PROGRESS due in `start_in` s and COMPLETED in `end_in` s (DB clock)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        game = conn.execute(
            "INSERT INTO game_sessions (guild_id, channel_id, host_id, title, scheduled_at) "
            "VALUES (1, 2, 3, 'Catan', now()) RETURNING id"
        ).fetchone()
        assert game is not None
        rows = conn.execute(
            "INSERT INTO game_status_schedule (game_id, target_status, transition_time) VALUES "
            "(%(g)s, 'IN_PROGRESS', clock_timestamp() + make_interval(secs => %(s)s)), "
            "(%(g)s, 'COMPLETED', clock_timestamp() + make_interval(secs => %(e)s)) "
            "RETURNING id, transition_time",
            {"g": game[0], "s": start_in, "e": end_in},
        ).fetchall()
    return {str(row[0]): row[1] for row in rows}


def _executed(database_url: str, expected: int) -> int:
    """Rows marked executed, waiting up to 2 s for `expected` (the commit follows the confirm)."""
    deadline = time.monotonic() + 2
    while True:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM game_status_schedule WHERE executed"
            ).fetchone()
        assert row is not None
        if int(row[0]) == expected or time.monotonic() > deadline:
            return int(row[0])
        time.sleep(0.01)


@pytest.fixture
def status_daemon(
    database_url: str, rabbitmq_vhost_url: str, rabbitmq_topology: Topology
) -> Iterator[SchedulerDaemon]:
    """The status-transitions daemon, built with the wrapper's parameters, running."""
    daemon = build_daemon(
        database_url,
        rabbitmq_vhost_url,
        "game_status_schedule_changed",
        GameStatusSchedule,
        "transition_time",
        "executed",
        build_status_transition_event,
        900,
        publisher=PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology),
        registry=CollectorRegistry(),
    )
    thread = threading.Thread(target=daemon.run)
    thread.start()
    time.sleep(0.3)  # connected, listening, asleep
    yield daemon
    daemon.stop()
    thread.join(10)
    assert not thread.is_alive()


def _receive(
    probe: RabbitProbe, queue: str, count: int, timeout: float = 5.0
) -> list[tuple[Any, ...]]:
    received: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        message = probe.get(queue)
        if message is None:
            time.sleep(0.005)
        else:
            received.append(message)
    return received


def test_status_transitions_are_published_at_their_times(
    database_url: str,
    status_daemon: SchedulerDaemon,
    rabbitmq_probe: RabbitProbe,
    rabbitmq_topology: Topology,
) -> None:
    due = _schedule_game(database_url, start_in=0.3, end_in=0.6)

    received = _receive(rabbitmq_probe, rabbitmq_topology.queue, 2)

    assert len(received) == 2
    statuses = []
    for method, properties, body in received:
        event = json.loads(body)
        assert method.routing_key == "game.status_transition_due"
        assert properties.type == "game.status_transition_due"
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.message_id in due
        assert (
            datetime.fromisoformat(event["data"]["transition_time"]) == due[properties.message_id]
        )
        statuses.append(event["data"]["target_status"])
    assert statuses == ["IN_PROGRESS", "COMPLETED"]
    assert _executed(database_url, 2) == 2


def test_after_the_broker_drops_the_connection_the_next_row_still_goes_out(
    database_url: str,
    status_daemon: SchedulerDaemon,
    rabbitmq_probe: RabbitProbe,
    rabbitmq_topology: Topology,
    rabbitmq_vhost: str,
) -> None:
    close_all_connections(rabbitmq_vhost)
    due = _schedule_game(database_url, start_in=0.1, end_in=0.2)

    received = _receive(rabbitmq_probe, rabbitmq_topology.queue, 2, timeout=10)

    # At least once: a batch caught by the dropped connection may come twice, same id.
    assert {properties.message_id for _, properties, _ in received} == set(due)
    assert uuid.UUID(received[0][1].message_id)
    assert _executed(database_url, 2) == 2
