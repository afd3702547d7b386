"""One dispatch pass: claim (and mark) due rows, publish their events, commit; pipelined.

While the broker confirms batch N, batch N+1 is claimed and built in a second transaction
(SKIP LOCKED keeps N's rows out of it) and written to the broker, so the broker always has
the next batch in hand. One publisher thread writes in turn, keeping messages in due
order. A batch's transaction stays open until its confirm, so a failed publish rolls back
and leaves its rows for the next pass.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
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
    PikaPublisher,
    SentBatch,
)
from game_scheduler.scheduler.metrics import SchedulerMetrics
from game_scheduler.scheduler.queries import PIPELINE_DEPTH, ClaimedBatch, ScheduleQueries

log = logging.getLogger(__name__)


@dataclass
class _Flight:
    """A claimed batch whose transaction stays open until the broker confirms it."""

    session: Session
    claimed: ClaimedBatch
    published: int  # messages handed to the broker (unbuildable rows are only marked)
    started: float  # monotonic seconds when the claim began
    sent: Future[SentBatch | None]  # the batch written to the broker (None: nothing to send)

    @property
    def rows(self) -> list[Any]:
        return self.claimed.rows


class BatchDispatcher:
    """Owns the publisher and its thread; `dispatch_due()` sends everything due now."""

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
        # Every publisher call runs on this one thread: pika connections are not thread-safe.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"publish-{name}")

    def dispatch_due(self, keep_going: Callable[[], bool]) -> int:
        """Claim, publish and mark batch after batch until one comes back short (or
        `keep_going()` turns false: the batches in flight still finish); returns the rows."""
        total = 0
        flights: list[_Flight] = []  # claimed, publishing, not yet committed; oldest first
        try:
            while True:
                flight = self._claim_and_publish() if keep_going() else None
                if flight is not None:
                    flights.append(flight)
                last = flight is None or len(flight.rows) < self.batch_size
                while flights and (last or len(flights) > PIPELINE_DEPTH):
                    total += self._confirm_and_mark(flights[0])
                    flights.pop(0)
                if last:
                    return total
        finally:
            for abandoned in flights:
                self._abandon(abandoned)

    def connect(self) -> None:
        """Open the broker connection now, so the first due row does not pay for it."""
        if isinstance(self._publisher, PikaPublisher):
            try:
                self._thread.submit(self._publisher.connect).result()
            except PublishError as exc:
                log.warning(
                    "cannot reach broker yet", extra={"schedule": self.name, "error": repr(exc)}
                )

    def keepalive(self) -> None:
        """Let the publisher service its heartbeats while the daemon sleeps."""
        self._thread.submit(self._publisher.keepalive).result()

    def close(self) -> None:
        """Close the publisher and stop its thread."""
        self._thread.submit(self._publisher.close).result()
        self._thread.shutdown()

    def _claim_and_publish(self) -> _Flight | None:
        started = self._clock.monotonic()
        session = self._sessions()
        try:
            session.begin()
            claimed = self.queries.claim(session, self.batch_size)
            if claimed is None:
                session.close()
                return None
            messages = [m for m in map(self._message, claimed.rows) if m is not None]
        except BaseException:
            session.close()
            raise
        sent = self._thread.submit(self._start, messages)
        return _Flight(session, claimed, len(messages), started, sent)

    def _message(self, row: Any) -> OutgoingMessage | None:
        try:
            return OutgoingMessage(str(row.id), self._event_builder(row))
        except Exception:
            # A row that can never become an event must not block the table: it is marked.
            self._metrics.unbuildable.labels(self.name).inc()
            log.exception("cannot build event", extra={"schedule": self.name, "id": row.id})
            return None

    def _start(self, messages: list[OutgoingMessage]) -> SentBatch | None:
        return self._publisher.start_batch(messages) if messages else None

    def _wait_confirmed(self, sent: Future[SentBatch | None]) -> float:
        """On the publisher thread: the monotonic time the broker confirmed the batch."""
        batch = sent.result()  # raises the start's PublishError, if it had one
        if batch is not None:
            self._publisher.wait_confirmed(batch)
        return self._clock.monotonic()

    def _abandon(self, flight: _Flight) -> None:
        """Let the broker finish with the batch (it may reach consumers) and roll back."""
        with contextlib.suppress(Exception):
            self._thread.submit(self._wait_confirmed, flight.sent).result()
        flight.session.close()

    def _confirm_and_mark(self, flight: _Flight) -> int:
        confirmed_at = self._thread.submit(self._wait_confirmed, flight.sent).result()
        confirm_seconds = confirmed_at - flight.started
        flight.session.commit()  # the claim marked the rows; now that is true, make it seen
        flight.session.close()
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
