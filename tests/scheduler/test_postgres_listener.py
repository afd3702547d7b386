"""The LISTEN connection, and one conformance test that runs against it and its fake."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from game_scheduler.scheduler.postgres_listener import PostgresListener, WakeReason
from game_scheduler.testing import FakeListener

CHANNEL = "event_outbox_changed"


@dataclass
class Harness:
    """A listener and the ways a test pokes it from outside."""

    listener: PostgresListener | FakeListener
    notify: Callable[[], None]
    drop: Callable[[], None]


@contextmanager
def _real(database_url: str) -> Iterator[Harness]:
    listener = PostgresListener(database_url, CHANNEL)
    listener.connect()

    def notify() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(CHANNEL)))

    def drop() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))

    try:
        yield Harness(listener, notify, drop)
    finally:
        listener.close()


def _fake() -> Iterator[Harness]:
    listener = FakeListener(CHANNEL)
    listener.connect()
    yield Harness(listener, listener.notify, listener.drop)
    listener.close()


@pytest.fixture(params=["postgres", "fake"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The real listener on this test's database, or the fake: the same contract."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.integration)
        with _real(request.getfixturevalue("database_url")) as real:
            yield real
    else:
        yield from _fake()


def test_listener_conformance(harness: Harness) -> None:
    listener = harness.listener

    started = time.monotonic()
    assert listener.wait(0.1) is WakeReason.TIMEOUT
    assert 0.09 <= time.monotonic() - started < 0.5

    harness.notify()
    harness.notify()
    time.sleep(0.05)  # both have reached the connection (two transactions, two packets)
    assert listener.wait(5) is WakeReason.NOTIFIED
    assert listener.wait(0.05) is WakeReason.TIMEOUT, "two NOTIFYs must coalesce into one wake"

    timer = threading.Timer(0.05, harness.notify)
    timer.start()
    started = time.monotonic()
    assert listener.wait(5) is WakeReason.NOTIFIED
    assert time.monotonic() - started < 1
    timer.join()

    threading.Timer(0.05, listener.interrupt).start()
    assert listener.wait(5) is WakeReason.INTERRUPTED
    listener.interrupt()
    assert listener.wait(5) is WakeReason.INTERRUPTED, "an interrupt before the wait counts"

    reconnects = listener.reconnects
    harness.drop()
    assert listener.wait(5) is WakeReason.RECONNECTED
    assert listener.reconnects == reconnects + 1
    harness.notify()
    assert listener.wait(5) is WakeReason.NOTIFIED, "listening again after the reconnect"


@pytest.mark.integration
def test_a_notify_sent_between_waits_is_not_lost(database_url: str) -> None:
    with _real(database_url) as harness:
        harness.notify()
        time.sleep(0.05)
        assert harness.listener.wait(0) is WakeReason.NOTIFIED


@pytest.mark.integration
def test_a_connection_closed_under_the_listener_is_replaced(database_url: str) -> None:
    listener = PostgresListener(database_url, CHANNEL, liveness_interval=0)
    listener.connect()
    try:
        # A connection that dies without a word: its socket is closed under psycopg.
        assert listener._conn is not None
        listener._conn.pgconn.finish()
        assert listener.wait(0.05) is WakeReason.RECONNECTED
        assert listener.wait(0.05) is WakeReason.TIMEOUT
    finally:
        listener.close()


@pytest.mark.integration
def test_an_unreachable_database_times_out_and_never_raises() -> None:
    listener = PostgresListener("postgresql://postgres@127.0.0.1:1/none", CHANNEL)
    try:
        started = time.monotonic()
        assert listener.wait(0.3) is WakeReason.TIMEOUT
        assert time.monotonic() - started < 1
    finally:
        listener.close()
