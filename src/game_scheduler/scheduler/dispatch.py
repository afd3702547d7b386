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

from sqlalchemy.orm import Session, sessionmaker

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

FIRST_BATCH = 16  # rows in the first claim of a pass; see batch_sizes()


def batch_sizes(largest: int) -> Iterator[int]:
    """How many rows each claim of one pass asks for: FIRST_BATCH, growing fourfold to
    `largest`. A small first claim puts the first messages of a burst on the wire within
    milliseconds; the larger ones behind it keep the broker's pipeline full."""
    size = min(FIRST_BATCH, largest)
    while True:
        yield size
        size = min(size * 4, largest)


@dataclass
class _Claim:
    """Rows claimed (and marked) in a transaction that stays open until their confirm."""

    session: Session
    claimed: ClaimedBatch
    started: float  # monotonic seconds when the claim began


@dataclass
class _Flight:
    """A claimed batch whose transaction stays open until the broker confirms it."""

    session: Session
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
        sessions: sessionmaker[Session],
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
        self._sessions = sessions
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
            # The first claim runs on this thread: a lone row that falls due goes out
            # without a hand-over between threads. Only claims made ahead use the claimer.
            claim = self._claim(size)
            while claim is not None:
                if not keep_going():
                    claim.session.close()  # stopping: the claim rolls back, its rows stay due
                    break
                if len(claim.claimed.rows) == size:
                    # The database works on the next claim (on the other core) while this
                    # thread encodes and writes the batch just claimed.
                    size = next(sizes)
                    claiming = self._claimer.submit(self._claim, size)
                flights.append(self._send(claim))
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

    def close(self) -> None:
        """Close the publisher and stop the claimer thread."""
        self._claimer.shutdown(wait=True)
        self._publisher.close()

    def _claim(self, size: int) -> _Claim | None:
        """On the claimer thread: claim up to `size` due rows in a transaction of their own."""
        started = self._clock.monotonic()
        session = self._sessions()
        try:
            session.begin()
            claimed = self.queries.claim(session, size)
        except BaseException:
            session.close()
            raise
        if claimed is None:
            session.close()
            return None
        return _Claim(session, claimed, started)

    def _send(self, claim: _Claim) -> _Flight:
        """Build the claimed rows' events and write them to the broker, without waiting."""
        try:
            messages = [m for m in map(self._message, claim.claimed.rows) if m is not None]
            sent = self._publisher.start_batch(messages) if messages else None
        except BaseException:
            claim.session.close()
            raise
        return _Flight(claim.session, claim.claimed, len(messages), claim.started, sent)

    @staticmethod
    def _release(claiming: Future[_Claim | None]) -> None:
        """Roll back a claim made ahead that will not be sent (its rows stay due)."""
        with contextlib.suppress(Exception):
            claim = claiming.result()
            if claim is not None:
                claim.session.close()

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
        flight.session.close()

    def _confirm_and_commit(self, flight: _Flight) -> int:
        try:
            if flight.sent is not None:
                self._publisher.wait_confirmed(flight.sent)
            confirm_seconds = self._clock.monotonic() - flight.started
            flight.session.commit()  # the claim marked the rows; now that is true, make it seen
        finally:
            flight.session.close()  # after a failure: rolls the marks back
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
