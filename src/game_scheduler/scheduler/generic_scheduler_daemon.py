"""One generic scheduler daemon for any schedule table: fire each row at its due time.

Loop: claim due rows in batches (`SELECT ... FOR UPDATE SKIP LOCKED`), publish their events
with publisher confirms, mark them processed, commit; when a batch comes back short, ask
the database how long until the next row is due and wait that long on the LISTEN
connection (or `max_timeout`), waking early on any NOTIFY. See docs/scheduler.md.

The daemon takes its collaborators (engine, listener, publisher, metrics, clock) ready
made; `scheduler.runner.build_daemon` builds them from URLs, with the daemon's original
parameters, and is the one place that wires real connections.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from game_scheduler.clock import Clock
from game_scheduler.messaging.errors import PublishError
from game_scheduler.messaging.events import Event
from game_scheduler.messaging.publisher import EventPublisher
from game_scheduler.observability import Heartbeat
from game_scheduler.scheduler.dispatch import BatchDispatcher, driver, pooled_connection, release
from game_scheduler.scheduler.metrics import SchedulerMetrics
from game_scheduler.scheduler.postgres_listener import Listener, WakeReason
from game_scheduler.scheduler.queries import PASS_CONNECTIONS, ScheduleQueries

log = logging.getLogger(__name__)


HEALTH_MARGIN = 60.0  # seconds a loop may overrun max_timeout before health fails
MAX_BACKOFF = 30.0  # seconds between retries after a database or broker failure
WARM_UP_AHEAD = 0.002  # seconds before a due row when the daemon warms its path up


class SchedulerDaemon:
    """Publishes an event for every row of a schedule table once its due time has come.

    It owns what it is given: `close()` closes the publisher and the listener and disposes
    of the engine.
    """

    def __init__(
        self,
        queries: ScheduleQueries,
        notify_channel: str,
        event_builder: Callable[[Any], Event],
        *,
        engine: Engine,
        listener: Listener,
        publisher: EventPublisher,
        metrics: SchedulerMetrics,
        clock: Clock,
        max_timeout: float = 900.0,  # seconds, longest sleep without looking at the table
        batch_size: int = 500,
        heartbeat: Heartbeat | None = None,
        keepalive_interval: float = 10.0,  # seconds between publisher keepalives while idle
    ) -> None:
        self.notify_channel = notify_channel
        self.event_builder = event_builder
        self.max_timeout = max_timeout
        self.batch_size = batch_size
        self.queries = queries
        self.name = self.queries.table_name
        self._engine = engine
        self._sessions = sessionmaker(self._engine)
        self._listener = listener
        self._clock = clock
        self.heartbeat = heartbeat or Heartbeat(max_timeout + HEALTH_MARGIN)
        self._metrics = metrics
        self._metrics.init_labels(self.name)
        self._dispatcher = BatchDispatcher(
            self.name,
            self.queries,
            self._engine,
            publisher,
            event_builder,
            batch_size=batch_size,
            metrics=self._metrics,
            clock=self._clock,
        )
        self._keepalive_interval = keepalive_interval
        self._stopping = False
        self._overdue_streak = 0  # empty claims while rows are overdue (held by a replica)
        self._failures = 0
        self._closed = False

    def get_next_due_item(self) -> datetime | None:
        """The due time of the earliest unprocessed row, or None when there is none."""
        with self._sessions() as session, session.begin():
            return self.queries.earliest(session)

    def mark_item_processed(self, item_id: uuid.UUID) -> None:
        """Set the status field of one row (the daemon itself marks whole batches at once)."""
        with self._sessions() as session, session.begin():
            self.queries.mark_processed(session, [item_id])

    def stop(self) -> None:
        """Ask `run()` to finish the batch in flight and return; thread- and signal-safe."""
        self._stopping = True
        self._listener.interrupt()

    def run(self) -> None:
        """Dispatch due rows and sleep until the next, until `stop()`; then close everything."""
        log.info("scheduler started", extra={"schedule": self.name, "channel": self.notify_channel})
        self._connect()
        try:
            while not self._stopping:
                self.heartbeat.beat()
                try:
                    dispatched = self.process_due_items()
                    if not self._stopping:
                        self._sleep_until_next_due(dispatched)
                    self._recovered()
                except PublishError as exc:
                    self._metrics.publish_failures.labels(self.name).inc()
                    # The backlog grows while the broker is away: keep the gauge true.
                    with contextlib.suppress(SQLAlchemyError, psycopg.Error):
                        self._next_due()
                    self._fail("publish failed; rows stay unprocessed", exc)
                except (SQLAlchemyError, psycopg.Error) as exc:
                    self._fail("database error", exc)
        finally:
            self.close()
        log.info("scheduler stopped", extra={"schedule": self.name})

    def process_due_items(self) -> int:
        """Dispatch every row due now, batch after batch; returns how many went out."""

        def keep_going() -> bool:
            self.heartbeat.beat()  # a long backlog is progress, not a stuck loop
            return not self._stopping

        return self._dispatcher.dispatch_due(keep_going)

    def _sleep_until_next_due(self, dispatched: int) -> None:
        seconds = self._next_due()
        if seconds is None:
            timeout = self.max_timeout
        elif seconds > 0 or dispatched:
            self._overdue_streak = 0
            timeout = min(max(seconds, 0.0), self.max_timeout)
        else:
            # Overdue, yet our claim found nothing: another replica holds those rows (or one
            # fell due a microsecond after the claim). Look again at once, then back off
            # 1, 2, 4 ... 50 ms instead of spinning until the other replica commits.
            timeout = (
                0.0 if self._overdue_streak == 0 else min(0.001 * 2**self._overdue_streak, 0.05)
            )
            self._overdue_streak += 1
        if seconds is None or timeout <= WARM_UP_AHEAD:
            self._wait(timeout, wake_on_notify=True)
            return
        # Wake a little before the row is due and walk the path it will take, then sleep
        # the rest: after a long sleep the first claim and publish ran at a fraction of
        # their speed (caches gone cold; a publish of one message took 0.9 ms instead of
        # 0.05), and the median lag of a lone row drops by about 0.5 ms with this.
        deadline = self._clock.monotonic() + timeout
        if self._wait(timeout - WARM_UP_AHEAD, wake_on_notify=True) is WakeReason.TIMEOUT:
            self._dispatcher.warm_up()
            self._wait(max(deadline - self._clock.monotonic(), 0.0), wake_on_notify=True)

    def _next_due(self) -> float | None:
        """Seconds until the next row is due, by the database clock; updates the gauge."""
        connection = pooled_connection(self._engine)
        try:
            next_due = self.queries.next_due(driver(connection))
            answered = self._clock.monotonic()
            connection.commit()
        except BaseException as exc:
            release(self._engine, connection, exc)
            raise
        release(self._engine, connection)
        self._metrics.pending_due.labels(self.name).set(next_due.pending_due)
        if next_due.seconds_until is None:
            return None
        # The database read its clock before it answered, so counting the wait from the
        # answer wakes a hair late at worst (the answer's way back, a tenth of a
        # millisecond). Counting from the middle of the round trip, as before, woke up to
        # half of it early, and an early wake cost a claim that found nothing and another
        # of these queries before the row went out: 7 ms late on a 2-core machine.
        return next_due.seconds_until - (self._clock.monotonic() - answered)

    def _wait(self, timeout: float, *, wake_on_notify: bool) -> WakeReason:
        """Wait on the listener in slices, keeping the broker connection alive between them."""
        deadline = self._clock.monotonic() + timeout
        while True:
            remaining = deadline - self._clock.monotonic()
            reason = self._listener.wait(min(max(remaining, 0.0), self._keepalive_interval))
            if reason is WakeReason.RECONNECTED:
                self._metrics.reconnects.labels(self.name, "listener").inc()
                log.warning("listener reconnected", extra={"schedule": self.name})
                return reason
            if reason is WakeReason.INTERRUPTED or self._stopping:
                return reason
            if reason is WakeReason.NOTIFIED and wake_on_notify:
                return reason
            if remaining <= self._keepalive_interval and reason is WakeReason.TIMEOUT:
                return reason
            self._dispatcher.keepalive()
            self.heartbeat.beat()

    def _fail(self, message: str, exc: BaseException) -> None:
        self._failures += 1
        delay = min(0.1 * 2 ** (self._failures - 1), MAX_BACKOFF)
        log.warning(
            message,
            extra={"schedule": self.name, "error": repr(exc), "retry_in": delay},
        )
        self._wait(delay, wake_on_notify=False)

    def _recovered(self) -> None:
        if self._failures:
            self._metrics.reconnects.labels(self.name, "database_or_broker").inc()
            log.info("recovered", extra={"schedule": self.name, "failed_attempts": self._failures})
            self._failures = 0

    def _connect(self) -> None:
        try:
            self._listener.connect()
        except psycopg.Error as exc:
            log.warning("cannot listen yet", extra={"schedule": self.name, "error": repr(exc)})
        try:
            # Open every connection the pipeline holds in a burst now, not during the burst.
            with contextlib.ExitStack() as opened:
                for _ in range(PASS_CONNECTIONS):
                    opened.enter_context(self._engine.connect())
        except SQLAlchemyError as exc:
            log.warning(
                "cannot reach database yet", extra={"schedule": self.name, "error": repr(exc)}
            )
        self._dispatcher.connect()

    def close(self) -> None:
        """Close the publisher, the listener and the database pool; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._dispatcher.close()
        self._listener.close()
        self._engine.dispose()
