"""The wrappers as the processes Docker runs: `python -m game_scheduler.scheduler.<wrapper>`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import psycopg
import pytest

from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY
from tests.fixtures.rabbitmq import RabbitProbe, own_vhost, vhost_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def own_vhost_url() -> Iterator[str]:
    """A vhost of this module's own: the wrapper declares the production names in it."""
    with own_vhost("gs-wrapper") as name:
        yield vhost_url(name)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_outbox_wrapper_publishes_and_exits_0_on_signal(
    database_url: str, own_vhost_url: str, signum: signal.Signals
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO event_outbox (event_type, payload) "
            "VALUES ('game.created', jsonb_build_object('game_id', gen_random_uuid())) "
            "RETURNING id"
        ).fetchone()
    assert row is not None
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": own_vhost_url,
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "game_scheduler.scheduler.outbox_daemon_wrapper"]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        logs = _publish_then_stop(process, own_vhost_url, str(row[0]), signum)
    assert '"msg": "dispatched batch"' in logs
    assert '"msg": "scheduler stopped"' in logs


def _publish_then_stop(
    process: subprocess.Popen[str], vhost_url: str, row_id: str, signum: signal.Signals
) -> str:
    """Wait for the row's message, signal the process, require exit 0; returns its logs."""
    probe = RabbitProbe(vhost_url)
    try:
        deadline = time.monotonic() + 15
        message = None
        while message is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            try:
                message = probe.get(DEFAULT_TOPOLOGY.queue)
            except Exception:
                probe.close()  # the queue is not declared yet
        assert message is not None, "the outbox row was not published"
        _, properties, body = message
        assert properties.message_id == row_id
        assert json.loads(body)["event_type"] == "game.created"

        process.send_signal(signum)
        assert process.wait(10) == 0
    finally:
        probe.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    return process.stderr.read()


def test_a_wrapper_serves_health_on_its_metrics_port(database_url: str, own_vhost_url: str) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "RABBITMQ_URL": own_vhost_url}
    command = [
        sys.executable,
        "-m",
        "game_scheduler.scheduler.notification_daemon_wrapper",
        "--metrics-port",
        str(port),
    ]
    with subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL) as process:
        try:
            deadline = time.monotonic() + 15
            health = None
            while health is None and time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as reply:
                        health = json.loads(reply.read())
                except OSError:
                    time.sleep(0.1)
            assert health is not None
            assert health["ok"] is True
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as reply:
                assert b"game_scheduler_scheduler_dispatch_lag_seconds" in reply.read()
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
