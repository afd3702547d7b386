"""The scheduler daemons' synchronous publisher: a whole batch with publisher confirms, fast.

Confirm strategy (see docs/messaging.md): pika's `BlockingChannel.confirm_delivery()` waits
for one confirm per message (about 2,300 messages/s here). Instead the batch is pipelined on
the blocking channel's underlying asynchronous channel: every message is written at once
with its delivery tag recorded, then the connection's I/O loop runs until every tag is
acked (single or `multiple=True` acks). A nack, a basic.return (messages are `mandatory`),
a closed channel, a lost connection or a timeout make the batch raise `PublishError`, and
the caller marks none of its rows: delivery is at-least-once, and consumers deduplicate on
the stable `message_id`.

Waiting for a batch's confirms takes two to four times as long as writing it (the broker
replicates and syncs the quorum queue), so a caller with more to send can keep a second
batch in flight: `start_batch()` writes one and returns, `wait_confirmed()` waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pika
import pika.channel
import pika.exceptions
import pika.frame
import pika.spec
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from game_scheduler.messaging.errors import PublishError
from game_scheduler.messaging.events import Event
from game_scheduler.messaging.pika_internals import (
    async_channel,
    check_pika_internals,
    coalescing_impl,
    open_coalescing_connection,
)
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY, Topology, declare_blocking

logger = logging.getLogger(__name__)

_PERSISTENT = pika.DeliveryMode.Persistent


@dataclass(frozen=True)
class OutgoingMessage:
    """One event to publish, identified by its schedule or outbox row id."""

    message_id: str  # stable across redeliveries: consumers deduplicate on it
    event: Event


class EventPublisher(Protocol):
    """What a scheduler daemon needs from a publisher."""

    def connect(self) -> None:
        """Connect now (publishing connects on demand too); raise `PublishError` if it fails."""

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return only when the broker confirmed every message; raise `PublishError` otherwise."""

    def start_batch(self, messages: Sequence[OutgoingMessage]) -> SentBatch:
        """Write a batch to the broker without waiting; raise `PublishError` if that fails."""

    def wait_confirmed(self, batch: SentBatch) -> None:
        """Return when every message of a started batch is confirmed; else raise `PublishError`."""

    def keepalive(self) -> None:
        """Service heartbeats while idle; cheap, never raises."""

    def close(self) -> None:
        """Release the connection; later publishes raise `PublishError`."""


def message_properties(message: OutgoingMessage) -> pika.BasicProperties:
    """The message's AMQP properties: JSON, persistent, its stable id, its type, POSIX time."""
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=_PERSISTENT,
        message_id=message.message_id,
        type=message.event.event_type.value,
        timestamp=int(message.event.timestamp.timestamp()),
    )


class SentBatch:
    """A batch written to the broker, and the confirm bookkeeping of its delivery tags."""

    def __init__(self, message_ids: Sequence[str]) -> None:
        self.message_ids = list(message_ids)
        self.message_id_by_tag: dict[int, str] = {}
        self.pending: set[int] = set()
        self.nacked: list[str] = []
        self.returned: list[str] = []
        self.lost: str | None = None  # why the connection it went out on was lost

    def settle(self, tag: int, *, multiple: bool, ack: bool) -> bool:
        """Record a broker ack or nack (`multiple`: every tag up to `tag`); True if done now."""
        if multiple:
            tags = [t for t in self.pending if t <= tag]
        else:
            tags = [tag] if tag in self.pending else []
        for settled in tags:
            self.pending.discard(settled)
            if not ack:
                self.nacked.append(self.message_id_by_tag[settled])
        return bool(tags) and not self.pending


class PikaPublisher:
    """`EventPublisher` on one pika connection, pipelining each batch and then awaiting confirms.

    Not thread-safe: one publisher belongs to one daemon thread.
    """

    def __init__(
        self,
        rabbitmq_url: str,
        *,
        topology: Topology = DEFAULT_TOPOLOGY,
        declare: bool = True,
        connect_timeout: float = 10.0,  # seconds
        confirm_timeout: float = 30.0,  # seconds
        heartbeat: int | None = None,  # seconds; None takes the broker's proposal
    ) -> None:
        self._parameters = pika.URLParameters(rabbitmq_url)
        self._parameters.socket_timeout = connect_timeout
        self._parameters.stack_timeout = connect_timeout
        self._parameters.connection_attempts = 1
        # A broker under a resource alarm blocks publishers; fail the batch instead of hanging.
        self._parameters.blocked_connection_timeout = confirm_timeout
        if heartbeat is not None:
            self._parameters.heartbeat = heartbeat
        self._topology = topology
        self._declare = declare
        self._confirm_timeout = confirm_timeout
        self._connection: BlockingConnection | None = None
        self._channel: pika.channel.Channel | None = None
        self._channel_close_reason: BaseException | None = None
        self._next_tag = 1
        self._in_flight: list[SentBatch] = []  # started, not yet fully confirmed; oldest first
        self._connections_opened = 0
        self._closed = False

    @property
    def reconnects(self) -> int:
        """How many times a connection was opened after the first (for a reconnects metric)."""
        return max(self._connections_opened - 1, 0)

    @property
    def writes(self) -> int:
        """Buffers handed to the socket on the current connection (one per coalesced batch)."""
        if self._connection is None:
            return 0
        # pika counts each buffer its `_output_marshaled_frames` hands on; the stubs omit it.
        return int(getattr(coalescing_impl(self._connection), "frames_sent", 0))

    @property
    def is_connected(self) -> bool:
        """True when a connection and its confirm-mode channel are open."""
        return (
            self._connection is not None
            and self._connection.is_open
            and self._channel is not None
            and self._channel.is_open
        )

    def connect(self) -> None:
        """Connect and declare now (otherwise the first publish does); raises `PublishError`."""
        if self._closed:
            raise PublishError("publisher is closed")
        check_pika_internals()
        try:
            self._ensure_channel()
        except pika.exceptions.AMQPError as exc:
            self._drop_connection()
            raise PublishError(f"cannot connect to RabbitMQ: {exc!r}") from exc

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish every message and return when all are confirmed; raise `PublishError` if not."""
        if messages:
            self.wait_confirmed(self.start_batch(messages))
        elif self._closed:
            raise PublishError("publisher is closed")

    def start_batch(self, messages: Sequence[OutgoingMessage]) -> SentBatch:
        """Write every message of a batch and return without waiting for its confirms."""
        message_ids = [m.message_id for m in messages]
        if self._closed:
            raise PublishError("publisher is closed", message_ids=message_ids)
        batch = SentBatch(message_ids)
        try:
            self._write(batch, messages)
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._drop_connection()
            raise PublishError(
                f"batch of {len(messages)} not sent: {exc!r}", message_ids=message_ids
            ) from exc
        return batch

    def wait_confirmed(self, batch: SentBatch) -> None:
        """Return when the broker confirmed all of `batch`; raise `PublishError` if not."""
        try:
            self._wait_for(batch)
        except PublishError as exc:
            self._drop_connection()
            raise PublishError(exc.reason, message_ids=batch.message_ids) from exc
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._drop_connection()
            raise PublishError(
                f"batch of {len(batch.message_ids)} not confirmed: {exc!r}",
                message_ids=batch.message_ids,
            ) from exc
        finally:
            if batch in self._in_flight:
                self._in_flight.remove(batch)
        if batch.nacked or batch.returned:
            raise PublishError(
                f"batch of {len(batch.message_ids)} not confirmed: {len(batch.returned)} "
                f"unroutable (returned), {len(batch.nacked)} nacked",
                message_ids=batch.message_ids,
                failed_message_ids=batch.returned + batch.nacked,
            )

    def keepalive(self) -> None:
        """Answer heartbeats on an open connection; a dead one is dropped, to reopen on publish."""
        if self._connection is None:
            return
        try:
            self._connection.process_data_events(time_limit=0)
        except (pika.exceptions.AMQPError, OSError) as exc:
            logger.warning("publisher connection lost while idle: %r", exc)
            self._drop_connection()

    def close(self) -> None:
        """Close the connection; idempotent."""
        self._closed = True
        self._drop_connection()

    def _write(self, batch: SentBatch, messages: Sequence[OutgoingMessage]) -> None:
        channel = self._ensure_channel()
        assert self._connection is not None  # _ensure_channel opened it
        impl = coalescing_impl(self._connection)
        self._in_flight.append(batch)
        exchange = self._topology.exchange
        with impl.coalesced():
            for message in messages:
                tag = self._next_tag
                self._next_tag += 1
                batch.message_id_by_tag[tag] = message.message_id
                batch.pending.add(tag)
                channel.basic_publish(
                    exchange,
                    message.event.event_type.value,
                    message.event.to_json_bytes(),
                    message_properties(message),
                    mandatory=True,
                )
        # The coalesced frames are only buffered: put them on the wire now, not at the
        # next pika call (in a burst, after the next claim: milliseconds later).
        self._connection.process_data_events(time_limit=0)

    def _wait_for(self, batch: SentBatch) -> None:
        deadline = time.monotonic() + self._confirm_timeout
        while batch.pending:
            if batch.lost is not None:
                raise PublishError(f"connection lost before the confirms: {batch.lost}")
            connection, channel = self._connection, self._channel
            assert connection is not None  # a lost connection sets batch.lost
            assert channel is not None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"no confirm within {self._confirm_timeout} s")
            connection.process_data_events(time_limit=remaining)
            if not channel.is_open:
                raise PublishError(f"channel closed by the broker: {self._channel_close_reason!r}")

    def _ensure_channel(self) -> pika.channel.Channel:
        if self.is_connected and self._still_alive():
            assert self._channel is not None
            return self._channel
        self._drop_connection()
        connection = open_coalescing_connection(self._parameters)
        self._connection = connection
        self._connections_opened += 1
        blocking_channel = connection.channel()
        if self._declare:
            declare_blocking(blocking_channel, self._topology)
        channel = self._confirm_channel(connection, blocking_channel)
        self._channel = channel
        self._next_tag = 1
        logger.info(
            "publisher connected to RabbitMQ",
            extra={"reconnects": self.reconnects, "exchange": self._topology.exchange},
        )
        return channel

    def _still_alive(self) -> bool:
        # A close that arrived while idle (a broker restart, a forced close) is only seen
        # when frames are read: read them now, so the batch goes out on a fresh connection.
        assert self._connection is not None
        try:
            self._connection.process_data_events(time_limit=0)
        except (pika.exceptions.AMQPError, OSError) as exc:
            logger.warning("publisher connection was lost; reconnecting: %r", exc)
            return False
        return self.is_connected

    def _confirm_channel(
        self, connection: BlockingConnection, blocking_channel: BlockingChannel
    ) -> pika.channel.Channel:
        # The asynchronous channel under the blocking one lets a batch be pipelined:
        # BlockingChannel would wait for each message's confirm in turn.
        channel = async_channel(blocking_channel)
        selected: list[bool] = []
        channel.confirm_delivery(
            ack_nack_callback=self._on_confirm, callback=lambda _frame: selected.append(True)
        )
        channel.add_on_return_callback(self._on_return)
        channel.add_on_close_callback(self._on_channel_closed)
        deadline = time.monotonic() + self._confirm_timeout
        while not selected:
            if time.monotonic() > deadline or not channel.is_open:
                raise PublishError("could not put the channel in confirm mode")
            connection.process_data_events(time_limit=0.05)
        return channel

    def _on_confirm(
        self, frame: pika.frame.Method[pika.spec.Basic.Ack | pika.spec.Basic.Nack]
    ) -> None:
        method = frame.method
        ack = isinstance(method, pika.spec.Basic.Ack)
        finished = [
            batch.settle(method.delivery_tag, multiple=method.multiple, ack=ack)
            for batch in self._in_flight
        ]
        if any(finished) and self._connection is not None:
            # Our callbacks do not end process_data_events; a due timer does, at once.
            self._connection.call_later(0, _noop)

    def _on_return(
        self,
        _channel: pika.channel.Channel,
        _method: pika.spec.Basic.Return,
        properties: pika.spec.BasicProperties,
        _body: bytes,
    ) -> None:
        for batch in self._in_flight:
            if properties.message_id in batch.message_ids:
                batch.returned.append(properties.message_id or "")

    def _on_channel_closed(self, _channel: pika.channel.Channel, reason: BaseException) -> None:
        self._channel_close_reason = reason

    def _drop_connection(self) -> None:
        # Confirms of batches sent on this connection will never come.
        for batch in self._in_flight:
            batch.lost = batch.lost or "the connection was dropped"
        self._in_flight.clear()
        connection, self._connection, self._channel = self._connection, None, None
        if connection is None or connection.is_closed:
            return
        try:
            connection.close()
        except (pika.exceptions.AMQPError, OSError) as exc:
            logger.debug("closing a broken publisher connection: %r", exc)


def _noop() -> None:
    pass
