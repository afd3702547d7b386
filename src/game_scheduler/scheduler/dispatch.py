"""One dispatch pass: claim (and mark) due rows, publish their events, commit; pipelined.

Up to `BATCHES_IN_FLIGHT` batches are claimed, each in its own transaction (SKIP LOCKED keeps
their rows apart), and written to the broker before the oldest must be confirmed: while
the broker syncs one batch's confirms, the next is already claimed and in its hands. The
next claim runs on a claimer thread while the daemon's thread encodes and writes the one
before it, so the database and the encoding share the two cores instead of taking turns.
Only the daemon's thread touches the pika connection (which is not thread-safe), and it
sends batches in the order they were claimed, so messages leave in due order. A batch's
transaction stays open until its confirm, so a failed publish rolls back and leaves its
rows due.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

from game_scheduler.clock import Clock
from game_scheduler.messaging.errors import PublishError
from game_scheduler.messaging.events import Event
from game_scheduler.messaging.publisher import (
    EventPublisher,
    OutgoingMessage,
    SentBatch,
)
from game_scheduler.scheduler.metrics import SchedulerMetrics
from game_scheduler.scheduler.queries import BATCHES_IN_FLIGHT, ClaimedBatch, ScheduleQueries

log = logging.getLogger(__name__)

FIRST_BATCH = 4  # rows in the first claim of a pass; see batch_sizes() and docs/scheduler.md


def batch_sizes(largest: int) -> Iterator[int]:
    """How many rows each claim of one pass asks for: FIRST_BATCH, growing fourfold to
    `largest`. A small first claim puts the first messages of a burst on the wire within
    milliseconds; the larger ones behind it keep the broker's pipeline full."""
    size = min(FIRST_BATCH, largest)
    while True:
        yield size
        size = min(size * 4, largest)


def pooled_connection(engine: Engine) -> PoolProxiedConnection:
    """A connection from the engine's pool, for psycopg itself (queries.py says why)."""
    return engine.raw_connection()


def driver(connection: PoolProxiedConnection) -> psycopg.Connection[Any]:
    """The psycopg connection inside a pooled one."""
    inner = connection.driver_connection
    assert isinstance(inner, psycopg.Connection)  # scheduler_engine's driver is psycopg
    return inner


def release(
    engine: Engine, connection: PoolProxiedConnection, error: BaseException | None = None
) -> None:
    """Give a pooled connection back; its open transaction, if any, rolls back.

    After an operational error (a killed backend, a lost link, a restarted server) the
    connection is dropped, and so are the pool's idle ones, which most likely went with
    it: otherwise each retry would find the next dead one, a back-off apart.
    """
    if isinstance(error, psycopg.OperationalError):
        connection.invalidate(error)
        connection.close()
        engine.dispose()
        return
    connection.close()


@dataclass
class _Claim:
    """Rows claimed (and marked) in a transaction that stays open until their confirm."""

    connection: PoolProxiedConnection
    claimed: ClaimedBatch
    started: float  # monotonic seconds when the claim began


@dataclass
class _Flight:
    """A claimed batch whose transaction stays open until the broker confirms it."""

    connection: PoolProxiedConnection
    claimed: ClaimedBatch
    published: int  # messages handed to the broker (unbuildable rows are only marked)
    started: float  # monotonic seconds when the claim began
    sent: SentBatch | None  # the batch written to the broker (None: nothing to send)

    @property
    def rows(self) -> list[Any]:
        return self.claimed.rows


class BatchDispatcher:
    """Owns the publisher; `dispatch_due()` sends everything that is due now."""

    def __init__(
        self,
        name: str,
        queries: ScheduleQueries,
        engine: Engine,
        publisher: EventPublisher,
        event_builder: Callable[[Any], Event],
        *,
        batch_size: int,
        metrics: SchedulerMetrics,
        clock: Clock,
    ) -> None:
        self.name = name
        self.queries = queries
        self.batch_size = batch_size
        self._engine = engine
        self._publisher = publisher
        self._event_builder = event_builder
        self._metrics = metrics
        self._clock = clock
        # One thread claims ahead; psycopg releases the GIL while the database works.
        self._claimer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"claim-{name}")

    def dispatch_due(self, keep_going: Callable[[], bool]) -> int:
        """Claim, publish and commit batch after batch until one comes back short (or
        `keep_going()` turns false: the batches in flight still finish); returns the rows."""
        total = 0
        flights: list[_Flight] = []  # claimed and sent, not yet committed; oldest first
        sizes = batch_sizes(self.batch_size)
        size = next(sizes)
        claiming: Future[_Claim | None] | None = None
        try:
            # The first claim runs on this thread and its batch goes out alone, confirmed
            # before anything is claimed ahead: a lone row that falls due leaves without a
            # hand-over between threads, and the first messages of a burst do not share
            # the two cores with the next claim while the broker takes them (that made the
            # first message 5 to 28 ms late instead of 4 to 9). Only later claims overlap.
            claim = self._claim(size)
            first = True
            while claim is not None:
                if not keep_going():
                    # Stopping: the claim rolls back, its rows stay due.
                    release(self._engine, claim.connection)
                    break
                full = len(claim.claimed.rows) == size
                if full and not first:
                    # The database works on the next claim (on the other core) while this
                    # thread encodes and writes the batch just claimed.
                    size = next(sizes)
                    claiming = self._claimer.submit(self._claim, size)
                flights.append(self._send(claim))
                if first:
                    first = False
                    total += self._confirm_and_commit(flights.pop())
                    if not full:
                        break
                    size = next(sizes)
                    claim = self._claim(size)
                    continue
                while flights and (claiming is None or len(flights) >= BATCHES_IN_FLIGHT):
                    total += self._confirm_and_commit(flights.pop(0))
                if claiming is None:
                    break
                claim = claiming.result()
                claiming = None
            while flights:
                total += self._confirm_and_commit(flights.pop(0))
            return total
        finally:
            if claiming is not None:
                self._release(claiming)
            for abandoned in flights:
                self._abandon(abandoned)

    def connect(self) -> None:
        """Open the broker connection now, so the first due row does not pay for it."""
        try:
            self._publisher.connect()
        except PublishError as exc:
            log.warning(
                "cannot reach broker yet", extra={"schedule": self.name, "error": repr(exc)}
            )

    def keepalive(self) -> None:
        """Let the publisher service its heartbeats while the daemon sleeps."""
        self._publisher.keepalive()

    def warm_up(self) -> None:
        """Just before a row is due: touch the broker connection, and the database
        connection the claim will take (the pool hands out the last one used)."""
        self._publisher.keepalive()
        connection = pooled_connection(self._engine)
        try:
            driver(connection).execute("SELECT 1")
            connection.commit()
        except BaseException as exc:
            release(self._engine, connection, exc)
            raise
        release(self._engine, connection)

    def close(self) -> None:
        """Close the publisher and stop the claimer thread."""
        self._claimer.shutdown(wait=True)
        self._publisher.close()

    def _claim(self, size: int) -> _Claim | None:
        """Claim up to `size` due rows in a transaction of their own (on either thread)."""
        started = self._clock.monotonic()
        connection = pooled_connection(self._engine)
        try:
            claimed = self.queries.claim(driver(connection), size)
        except BaseException as exc:
            release(self._engine, connection, exc)
            raise
        if claimed is None:
            release(self._engine, connection)
            return None
        return _Claim(connection, claimed, started)

    def _send(self, claim: _Claim) -> _Flight:
        """Build the claimed rows' events and write them to the broker, without waiting."""
        try:
            messages = [m for m in map(self._message, claim.claimed.rows) if m is not None]
            sent = self._publisher.start_batch(messages) if messages else None
        except BaseException:
            release(self._engine, claim.connection)
            raise
        return _Flight(claim.connection, claim.claimed, len(messages), claim.started, sent)

    def _release(self, claiming: Future[_Claim | None]) -> None:
        """Roll back a claim made ahead that will not be sent (its rows stay due)."""
        with contextlib.suppress(Exception):
            claim = claiming.result()
            if claim is not None:
                release(self._engine, claim.connection)

    def _message(self, row: Any) -> OutgoingMessage | None:
        try:
            return OutgoingMessage(str(row.id), self._event_builder(row))
        except Exception:
            # A row that can never become an event must not block the table: it is marked.
            self._metrics.unbuildable.labels(self.name).inc()
            log.exception("cannot build event", extra={"schedule": self.name, "id": row.id})
            return None

    def _abandon(self, flight: _Flight) -> None:
        """Let the broker finish with the batch (it may reach consumers) and roll back."""
        if flight.sent is not None:
            with contextlib.suppress(PublishError):
                self._publisher.wait_confirmed(flight.sent)
        release(self._engine, flight.connection)

    def _confirm_and_commit(self, flight: _Flight) -> int:
        error: BaseException | None = None
        try:
            if flight.sent is not None:
                self._publisher.wait_confirmed(flight.sent)
            confirm_seconds = self._clock.monotonic() - flight.started
            # The claim marked the rows; now that it is true, make it seen.
            flight.connection.commit()
        except BaseException as exc:
            error = exc
            raise
        finally:
            # After a failure this rolls the marks back.
            release(self._engine, flight.connection, error)
        # Lag by the database clock at claim time, plus the monotonic time claim-to-confirm.
        time_field = self.queries.time_field
        lags = [
            (flight.claimed.claimed_at - getattr(row, time_field)).total_seconds() + confirm_seconds
            for row in flight.rows
        ]
        self._metrics.record_dispatch(self.name, lags, flight.published)
        log.info(
            "dispatched batch",
            extra={
                "schedule": self.name,
                "count": flight.published,
                "lag_max_ms": round(max(lags) * 1000, 1),
                "lag_min_ms": round(min(lags) * 1000, 1),
            },
        )
        return len(flight.rows)
