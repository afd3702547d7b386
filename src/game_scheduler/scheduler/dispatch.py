"""One dispatch pass: claim (and mark) due rows, publish their events, commit; pipelined.

Up to `BATCHES_IN_FLIGHT` batches are claimed, each in its own transaction (SKIP LOCKED keeps
their rows apart), and written to the broker before the oldest must be confirmed: while
the broker syncs one batch's confirms, the next is already claimed and in its hands.
Everything runs on the daemon's one thread, so messages leave in due order and the pika
connection (which is not thread-safe) has a single user. A batch's transaction stays open
until its confirm, so a failed publish rolls back and leaves its rows due.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
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

    def dispatch_due(self, keep_going: Callable[[], bool]) -> int:
        """Claim, publish and commit batch after batch until one comes back short (or
        `keep_going()` turns false: the batches in flight still finish); returns the rows."""
        total = 0
        flights: list[_Flight] = []  # claimed and sent, not yet committed; oldest first
        try:
            while True:
                flight = self._claim_and_send() if keep_going() else None
                if flight is not None:
                    flights.append(flight)
                last = flight is None or len(flight.rows) < self.batch_size
                while flights and (last or len(flights) >= BATCHES_IN_FLIGHT):
                    total += self._confirm_and_commit(flights.pop(0))
                if last:
                    return total
        finally:
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
        """Close the publisher."""
        self._publisher.close()

    def _claim_and_send(self) -> _Flight | None:
        started = self._clock.monotonic()
        session = self._sessions()
        try:
            session.begin()
            claimed = self.queries.claim(session, self.batch_size)
            if claimed is None:
                session.close()
                return None
            messages = [m for m in map(self._message, claimed.rows) if m is not None]
            sent = self._publisher.start_batch(messages) if messages else None
        except BaseException:
            session.close()
            raise
        return _Flight(session, claimed, len(messages), started, sent)

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
