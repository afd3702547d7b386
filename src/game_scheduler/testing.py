"""In-memory doubles of the edges, for tests: a clock, a LISTEN connection, a publisher.

They satisfy the same protocols as the real things (`Clock`, `Listener`, `EventPublisher`)
and live here, beside the package rather than in it, the way procrastinate keeps its
in-memory connector: nothing in the running system imports this module (an import-linter
contract says so).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pika.adapters.blocking_connection import BlockingChannel

from game_scheduler.messaging.errors import PublishError
from game_scheduler.messaging.publisher import OutgoingMessage, SentBatch
from game_scheduler.messaging.topology import Topology
from game_scheduler.scheduler.postgres_listener import WakeReason

__all__ = [
    "FakeListener",
    "FakePublisher",
    "FrozenClock",
    "delete_topology",
    "prefixed_topology",
]


class FrozenClock:
    """A clock that moves only when told to, for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = at.astimezone(UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        """The frozen time."""
        return self._now

    def monotonic(self) -> float:
        """Seconds advanced so far."""
        return self._mono

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta
        self._mono += delta.total_seconds()


class FakeListener:
    """In-memory listener: tests call `notify()` and `drop()`; same `wait` contract."""

    def __init__(self, channel: str = "fake") -> None:
        self.channel = channel
        self.reconnects = 0
        self.waits: list[float] = []
        self._events: deque[WakeReason] = deque()
        self._cond = threading.Condition()
        self._connected = False

    def connect(self) -> None:
        """Pretend to connect."""
        with self._cond:
            if self._connected:
                return
            self._connected = True

    def notify(self) -> None:
        """Deliver a NOTIFY."""
        self._push(WakeReason.NOTIFIED)

    def drop(self) -> None:
        """Simulate a lost connection: the next wait reports a reconnect."""
        with self._cond:
            self.reconnects += 1
        self._push(WakeReason.RECONNECTED)

    def interrupt(self) -> None:
        """End the current or next wait at once."""
        self._push(WakeReason.INTERRUPTED)

    def wait(self, timeout: float) -> WakeReason:
        """Return the first pending event, or TIMEOUT after `timeout` seconds."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            self.waits.append(timeout)
            while not self._events:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return WakeReason.TIMEOUT
                self._cond.wait(remaining)
            reason = self._events.popleft()
            if reason is WakeReason.NOTIFIED:
                # Several NOTIFYs coalesce into one wake-up, as on the real connection.
                while self._events and self._events[0] is WakeReason.NOTIFIED:
                    self._events.popleft()
            return reason

    def close(self) -> None:
        """Pretend to close."""
        with self._cond:
            self._connected = False

    def _push(self, reason: WakeReason) -> None:
        with self._cond:
            self._events.append(reason)
            self._cond.notify_all()


class FakePublisher:
    """In-memory `EventPublisher` for unit tests: records confirmed batches, fails on request."""

    def __init__(self) -> None:
        self.published: list[OutgoingMessage] = []
        self.batches: list[list[OutgoingMessage]] = []
        self.keepalives = 0
        self.connects = 0
        self.closed = False
        self._failures_left = 0
        self._started: dict[int, list[OutgoingMessage]] = {}

    def fail_next(self, n: int = 1) -> None:
        """Make the next `n` non-empty batches raise `PublishError` and record nothing."""
        self._failures_left = n

    def connect(self) -> None:
        """Count the call; raise `PublishError` once closed, as the real publisher does."""
        if self.closed:
            raise PublishError("publisher is closed")
        self.connects += 1

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Record the batch as confirmed, or raise `PublishError` like a failed real batch."""
        if messages:
            self.wait_confirmed(self.start_batch(messages))
        elif self.closed:
            raise PublishError("publisher is closed")

    def start_batch(self, messages: Sequence[OutgoingMessage]) -> SentBatch:
        """Accept the batch; it is recorded (or fails) when waited for, as a real one would."""
        batch = SentBatch([m.message_id for m in messages])
        if self.closed:
            raise PublishError("publisher is closed", message_ids=batch.message_ids)
        self._started[id(batch)] = list(messages)
        return batch

    def wait_confirmed(self, batch: SentBatch) -> None:
        """Record the batch as confirmed, or raise `PublishError` like a failed real batch."""
        messages = self._started.pop(id(batch))
        if self._failures_left > 0:
            self._failures_left -= 1
            raise PublishError("fake failure", message_ids=batch.message_ids)
        self.batches.append(messages)
        self.published.extend(messages)

    def keepalive(self) -> None:
        """Count the call; never raises."""
        self.keepalives += 1

    def close(self) -> None:
        """Later publishes raise `PublishError`, as with the real publisher."""
        self.closed = True


def prefixed_topology(prefix: str, *, delivery_limit: int = 5) -> Topology:
    """Production's topology with every name starting with `prefix`, so runs share no queue."""
    base = Topology()
    return Topology(
        exchange=f"{prefix}{base.exchange}",
        queue=f"{prefix}{base.queue}",
        dead_letter_exchange=f"{prefix}{base.dead_letter_exchange}",
        dead_letter_queue=f"{prefix}{base.dead_letter_queue}",
        delivery_limit=delivery_limit,
        fresh_queue=f"{prefix}{base.fresh_queue}",
    )


def delete_topology(channel: BlockingChannel, topology: Topology) -> None:
    """Delete every queue and exchange of a topology (tests and benchmarks clean up)."""
    for queue in topology.queues():
        channel.queue_delete(queue.name)
    for exchange in topology.exchanges():
        channel.exchange_delete(exchange.name)
