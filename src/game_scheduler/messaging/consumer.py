"""The bot's asyncio consumer of `bot_events`: decode, validate, dispatch by type, ack.

Rules (see docs/messaging.md):
- a body that does not decode or validate, an unknown type, a missing `message_id` or a
  type without a registered handler is rejected without requeue: the DLQ gets it at once;
- a handler that raises is retried: after a short backoff the message is nacked with
  requeue, and the quorum queue's delivery limit dead-letters it once it keeps failing;
- a handler that returns is acked. Handlers deduplicate on `message_id` themselves
  (`dedup.record_message_once`), since delivery is at-least-once.

Two queues are consumed (docs/messaging.md): `bot_events`, which holds every event, and
`bot_events.fresh`, which holds copies of only the newest ones, so that a deep backlog
does not hide a new event. Whichever copy of an event comes first is handled; the other
waits for it and is then acked without work. A fresh copy whose handler fails is dropped
(its `bot_events` copy is retried and, at the limit, dead-lettered).

Before any handler runs, events pass an optional `triage` in batches (`triage.py`): one
query answers for hundreds of duplicates, missing games and no-op refreshes, acked
without calling their handlers.

Up to `prefetch` messages (`fresh_prefetch` for the fresh queue) are in hand at once,
their handlers running concurrently. The connection is aio-pika's robust
one: after a broker restart or a forced close it reconnects, redeclares and consumes
again; a message in hand whose channel died is redelivered, so its ack is only logged.
The first connection is retried too (aio-pika's robust connection only reconnects once it
has connected): each failure is logged with its reason, and `problem` says why the consumer
is not consuming, so the process's health check can fail at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from prometheus_client import CollectorRegistry

from game_scheduler.messaging.acks import AckBatcher
from game_scheduler.messaging.errors import InvalidMessageError
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.metrics import UNKNOWN_EVENT_TYPE, ConsumerMetrics
from game_scheduler.messaging.schemas import Payload, parse_payload
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY, Topology, declare_async
from game_scheduler.messaging.triage import Triage, TriageBatcher

logger = logging.getLogger(__name__)

# Triage pays only behind a backlog: with this many events in hand or fewer, each goes
# straight to its handler (which settles a duplicate or a missing game itself), instead
# of waiting for a batch to gather and for the batch's transaction (about 8 ms more from
# due time to edit).
TRIAGE_BACKLOG = 8

_KNOWN_TYPES = frozenset(t.value for t in EventType)
# Messages in hand from bot_events: enough that a status change published behind a Friday
# evening's reminders, which stay in hand until their DMs are out, is still taken at once;
# more (5,000 was tried) floods the event loop and slows a new event down behind a backlog.
DEFAULT_PREFETCH = 2000
DEFAULT_FRESH_PREFETCH = 100
RECENTLY_DONE_KEPT = 100_000  # message ids handled by this process, newest first


@dataclass(frozen=True)
class ReceivedEvent:
    """A delivered, validated event as a handler sees it."""

    message_id: str
    event: Event
    payload: Payload
    redelivered: bool = False
    delivery_count: int = 0  # earlier failed deliveries, from the quorum queue's header

    @property
    def event_type(self) -> EventType:
        """The event's type."""
        return self.event.event_type

    @classmethod
    def of(
        cls, event: Event, message_id: str, *, redelivered: bool = False, delivery_count: int = 0
    ) -> ReceivedEvent:
        """The event as delivered, its payload validated; raises `ValueError` if invalid."""
        return cls(
            message_id=message_id,
            event=event,
            payload=parse_payload(event),
            redelivered=redelivered,
            delivery_count=delivery_count,
        )


# A handler may return what it did (the bot returns an `Outcome`); the consumer ignores it.
EventHandler = Callable[[ReceivedEvent], Awaitable[object]]


def decode_message(message: AbstractIncomingMessage) -> ReceivedEvent:
    """Decode and validate a delivery; raises `InvalidMessageError` for anything malformed."""
    message_id = message.message_id
    event_type = message.type if message.type in _KNOWN_TYPES else None
    if not message_id:
        raise InvalidMessageError("message has no message_id", message_id=None, event_type=None)
    delivery_count = (message.headers or {}).get("x-delivery-count", 0)
    try:
        return ReceivedEvent.of(
            Event.from_json_bytes(message.body),
            message_id,
            redelivered=bool(message.redelivered),
            delivery_count=delivery_count if isinstance(delivery_count, int) else 0,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidMessageError(
            f"invalid event: {exc}", message_id=message_id, event_type=event_type
        ) from exc


class EventConsumer:
    """Consumes the topology's queue and calls the handler registered for each event type."""

    def __init__(
        self,
        rabbitmq_url: str,
        handlers: Mapping[EventType, EventHandler],
        *,
        topology: Topology = DEFAULT_TOPOLOGY,
        prefetch: int = DEFAULT_PREFETCH,
        fresh_prefetch: int = DEFAULT_FRESH_PREFETCH,  # 0: do not consume the fresh queue
        triage: Triage | None = None,
        declare: bool = True,
        retry_delay: float = 0.5,  # seconds before the first requeue; doubles per failure
        max_retry_delay: float = 10.0,  # seconds
        reconnect_interval: float = 2.0,  # seconds between reconnection attempts
        metrics: ConsumerMetrics | None = None,  # None: on a registry of its own
    ) -> None:
        self._url = rabbitmq_url
        self.metrics = metrics or ConsumerMetrics.create(CollectorRegistry())
        self._handlers = dict(handlers)
        self._topology = topology
        self._prefetch = prefetch
        self._fresh_prefetch = fresh_prefetch
        self._batcher = TriageBatcher(triage) if triage is not None else None
        # Copies being handled (by message id) and ids handled lately, across both queues.
        self._in_progress: dict[str, asyncio.Future[bool]] = {}
        self._recently_done: OrderedDict[str, None] = OrderedDict()
        self._acks = AckBatcher()
        self._declare = declare
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._reconnect_interval = reconnect_interval
        self._stopping = asyncio.Event()
        self._consuming = asyncio.Event()
        self._in_hand: set[asyncio.Task[None]] = set()
        self._connect_error: str | None = None

    @property
    def is_consuming(self) -> bool:
        """True while the queue is being consumed (the connection is up)."""
        return self._consuming.is_set() and self._connect_error is None

    @property
    def problem(self) -> str | None:
        """Why the consumer is not consuming, or None while it is."""
        if self._connect_error is not None:
            return f"cannot reach the broker: {self._connect_error}"
        if not self._consuming.is_set():
            return "not consuming yet"
        return None

    def _describe(self, exc: BaseException | None) -> str:
        # The class and message, never the URL: it carries the password.
        text = f"{type(exc).__name__}: {exc}" if exc is not None else "connection closed"
        return text.replace(self._url, "<url>")

    def _on_connection_lost(self, _sender: object, exc: BaseException | None = None) -> None:
        if not self._stopping.is_set():
            self._connect_error = self._describe(exc)
            logger.warning(
                "broker connection lost; reconnecting", extra={"error": self._connect_error}
            )

    def _on_reconnected(self, _sender: object) -> None:
        self._connect_error = None
        logger.info("broker connection restored; consuming again")

    async def wait_consuming(self) -> None:
        """Return once `run()` has declared the topology and started consuming."""
        await self._consuming.wait()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask `run()` to stop taking messages, finish those in hand and return."""
        self._stopping.set()

    async def _connect(self) -> AbstractRobustConnection | None:
        """The first connection, retried with backoff until it works or `stop()`."""
        delay = self._reconnect_interval
        while not self._stopping.is_set():
            try:
                connection: AbstractRobustConnection = await aio_pika.connect_robust(
                    self._url, reconnect_interval=self._reconnect_interval
                )
            except (*CONNECTION_EXCEPTIONS, TimeoutError) as exc:
                self._connect_error = self._describe(exc)
                logger.error(
                    "cannot reach the broker; retrying",
                    extra={"error": self._connect_error, "in_seconds": delay},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                delay = min(delay * 2, self._max_retry_delay * 3)
                continue
            self._connect_error = None
            connection.close_callbacks.add(self._on_connection_lost)
            connection.reconnect_callbacks.add(self._on_reconnected)
            return connection
        return None

    async def run(self) -> None:
        """Consume until `stop()`; reconnects by itself when the broker goes away."""
        connection = await self._connect()
        if connection is None:
            return
        connections = [connection]
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self._prefetch)
            queue: AbstractQueue
            if self._declare:
                queue = await declare_async(channel, self._topology)
            else:
                queue = await channel.get_queue(self._topology.queue)
            consuming = [(queue, await queue.consume(self._on_message))]
            if self._fresh_prefetch > 0:
                # A connection of its own, not only a channel: on a shared one a new event
                # arrives behind the backlog's deliveries already in the socket buffers
                # (over a second of them behind 13,000 queued, measured), and a channel
                # of its own keeps its prefetch from being shared with the backlog's.
                fresh_connection = await self._connect()
                if fresh_connection is None:
                    return
                connections.append(fresh_connection)
                fresh_channel = await fresh_connection.channel()
                await fresh_channel.set_qos(prefetch_count=self._fresh_prefetch)
                fresh = await fresh_channel.get_queue(self._topology.fresh_queue)
                consuming.append((fresh, await fresh.consume(self._on_fresh_message)))
            self._consuming.set()
            logger.info("consuming events", extra={"queue": self._topology.queue})
            await self._stopping.wait()
            for consumed, consumer_tag in consuming:
                with contextlib.suppress(*CONNECTION_EXCEPTIONS):
                    await consumed.cancel(consumer_tag)
            if self._in_hand:
                await asyncio.wait(set(self._in_hand))
            await self._acks.close()
        finally:
            self._consuming.clear()
            for opened in connections:
                await opened.close()
            logger.info("consumer stopped", extra={"queue": self._topology.queue})

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._acks.received(message)
        await self._track(self._handle(message))

    async def _on_fresh_message(self, message: AbstractIncomingMessage) -> None:
        self._acks.received(message)
        await self._track(self._handle_fresh(message))

    async def _track(self, work: Awaitable[None]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_hand.add(task)
        try:
            await work
        finally:
            if task is not None:
                self._in_hand.discard(task)

    async def _already_done(self, received: ReceivedEvent, *, fresh: bool = False) -> bool:
        """True when another copy was (or is being, successfully) handled, or triage settled it."""
        message_id = received.message_id
        if await self._handled_here(message_id, fresh=fresh):
            return True
        if (
            self._batcher is not None
            and len(self._in_hand) > TRIAGE_BACKLOG
            and await self._batcher.settled(received, first=fresh)
        ):
            self._done(message_id)
            return True
        # The other copy may have been taken up while this one was in its batch.
        return await self._handled_here(message_id, fresh=fresh)

    async def _handled_here(self, message_id: str, *, fresh: bool = False) -> bool:
        """True once another copy was handled by this process (waiting while it is).

        A fresh copy does not wait: the bot_events copy in hand is handled, and retried if
        need be, without it, and a fresh copy waiting on a long fan-out would keep a slot
        of the fresh queue's small prefetch from the next new event.
        """
        while (other := self._in_progress.get(message_id)) is not None:
            if fresh:
                return True
            if await asyncio.shield(other):
                return True
        return message_id in self._recently_done

    def _done(self, message_id: str) -> None:
        self._recently_done[message_id] = None
        self._recently_done.move_to_end(message_id)
        while len(self._recently_done) > RECENTLY_DONE_KEPT:
            self._recently_done.popitem(last=False)

    async def _run_handler(self, handler: EventHandler, received: ReceivedEvent) -> None:
        """Run the handler with the message id marked in progress; raises what it raises."""
        message_id = received.message_id
        marker: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._in_progress[message_id] = marker
        ok = False
        try:
            await handler(received)
            ok = True
            self._done(message_id)
        finally:
            marker.set_result(ok)
            if self._in_progress.get(message_id) is marker:
                del self._in_progress[message_id]

    async def _handle_fresh(self, message: AbstractIncomingMessage) -> None:
        """A fresh copy: handled like the original, but never retried nor dead-lettered."""
        try:
            received = decode_message(message)
        except InvalidMessageError:
            # No dead-letter exchange here: dropped; the bot_events copy dead-letters.
            self._acks.forget(message)
            await self._settle(message.reject(requeue=False), {"queue": "fresh"})
            return
        handler = self._handlers.get(received.event_type)
        extra = {"event_type": received.event_type.value, "message_id": received.message_id}
        if handler is not None and not await self._already_done(received, fresh=True):
            try:
                await self._run_handler(handler, received)
            except Exception as exc:
                logger.warning(
                    "fresh copy failed; its bot_events copy is retried",
                    extra={**extra, "error": repr(exc)},
                )
        self._acks.done(message)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        started = time.monotonic()
        try:
            received = decode_message(message)
        except InvalidMessageError as exc:
            await self._dead_letter(message, exc.event_type, exc.message_id, exc.reason)
            return
        handler = self._handlers.get(received.event_type)
        if handler is None:
            reason = "no handler registered for this event type"
            await self._dead_letter(message, received.event_type, received.message_id, reason)
            return
        extra = {"event_type": received.event_type.value, "message_id": received.message_id}
        try:
            if await self._already_done(received):
                self._acks.done(message)
                self.metrics.events_handled.labels(received.event_type.value).inc()
                return
            await self._run_handler(handler, received)
        except Exception:
            # The limit counts failed deliveries; past it the broker dead-letters this nack.
            last_try = received.delivery_count >= self._topology.delivery_limit
            outcome = "dead_letter" if last_try else "retry"
            self.metrics.events_failed.labels(received.event_type.value, outcome).inc()
            logger.exception(
                "event handler failed",
                extra={**extra, "outcome": outcome, "delivery_count": received.delivery_count},
            )
            if not last_try:
                await self._backoff(received.delivery_count)
            self._acks.forget(message)
            await self._settle(message.nack(requeue=True), extra)
            return
        self._acks.done(message)
        elapsed = time.monotonic() - started
        self.metrics.events_handled.labels(received.event_type.value).inc()
        self.metrics.event_handling_seconds.labels(received.event_type.value).observe(elapsed)
        logger.info("event handled", extra={**extra, "duration_ms": round(elapsed * 1000, 1)})

    async def _dead_letter(
        self,
        message: AbstractIncomingMessage,
        event_type: str | None,
        message_id: str | None,
        reason: str,
    ) -> None:
        label = event_type or UNKNOWN_EVENT_TYPE
        extra = {"event_type": label, "message_id": message_id, "reason": reason}
        self.metrics.events_failed.labels(label, "dead_letter").inc()
        logger.error("invalid event sent to the dead-letter queue", extra=extra)
        self._acks.forget(message)
        await self._settle(message.reject(requeue=False), extra)

    async def _backoff(self, delivery_count: int) -> None:
        # Without a pause a quorum queue redelivers at once, and a brief outage (Discord,
        # the database) would use up every delivery in milliseconds.
        delay = min(self._retry_delay * 2**delivery_count, self._max_retry_delay)
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _settle(self, settlement: Awaitable[None], extra: Mapping[str, object]) -> None:
        try:
            await settlement
        except CONNECTION_EXCEPTIONS as exc:
            # The channel died with the message in hand: the broker redelivers it.
            logger.warning(
                "could not settle a message; it will be redelivered",
                extra={**extra, "error": repr(exc)},
            )
