"""The RabbitMQ topology, described once and declared idempotently by pika or aio-pika.

    exchange "game_scheduler" (topic, durable)
        --"game.#"--> quorum queue "bot_events" (x-delivery-limit, x-dead-letter-exchange)
    exchange "game_scheduler.dlx" (fanout, durable)
        --> quorum queue "bot_events.dlq"
    exchange "game_scheduler"
        --"game.<all but reminder_due>"--> transient classic queue "bot_events.fresh"
                                          (x-max-length, drop-head, no DLX)

`bot_events.fresh` gets a copy of every event but reminders and keeps only the newest
`fresh_max_length`: a deep backlog in `bot_events` cannot hide a new event behind it,
because the bot consumes both and handles whichever copy comes first (the other is then
a duplicate, settled without work). It may drop copies freely: `bot_events` holds every
event, retries and dead-letters; the fresh copy is never retried.

The dead-letter exchange is a fanout: every dead letter, whatever its routing key, lands in
the one DLQ, and a message keeps its original routing key there for whoever inspects it.
Declaring is idempotent as long as the arguments match; a queue that exists with other
arguments makes the broker close the channel (PRECONDITION_FAILED), which is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from game_scheduler.messaging.events import EventType

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractQueue
    from pika.adapters.blocking_connection import BlockingChannel


@dataclass(frozen=True)
class ExchangeSpec:
    """One exchange to declare."""

    name: str
    type: str


@dataclass(frozen=True)
class QueueSpec:
    """One queue to declare, with its x-arguments; durable unless said otherwise."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    # A transient queue keeps even persistent messages in memory only, so a publish it
    # receives is confirmed without waiting for a disk write.
    durable: bool = True


@dataclass(frozen=True)
class BindingSpec:
    """One queue-to-exchange binding."""

    queue: str
    exchange: str
    routing_key: str


@dataclass(frozen=True)
class Topology:
    """Names and limits of the topology; the defaults are production's (docs/messaging.md)."""

    exchange: str = "game_scheduler"
    queue: str = "bot_events"
    binding_key: str = "game.#"
    dead_letter_exchange: str = "game_scheduler.dlx"
    dead_letter_queue: str = "bot_events.dlq"
    # Deliveries a message may fail (nack with requeue) before the queue dead-letters it.
    delivery_limit: int = 5
    fresh_queue: str = "bot_events.fresh"
    fresh_max_length: int = 100  # newest copies kept; older ones are dropped (drop-head)
    # Every event type but the reminders: a burst of reminders is the scheduler's largest,
    # and a second copy of each would cost it a third of the broker's throughput, while a
    # reminder never needs to overtake a backlog (the bot sends them in urgency order).
    fresh_routing_keys: tuple[str, ...] = tuple(
        t.value for t in EventType if t is not EventType.GAME_REMINDER_DUE
    )

    def exchanges(self) -> tuple[ExchangeSpec, ...]:
        """The exchanges, in declaration order."""
        return (
            ExchangeSpec(self.exchange, "topic"),
            ExchangeSpec(self.dead_letter_exchange, "fanout"),
        )

    def queues(self) -> tuple[QueueSpec, ...]:
        """The queues, in declaration order; all quorum, so a cluster replicates them."""
        return (
            QueueSpec(
                self.queue,
                {
                    "x-queue-type": "quorum",
                    "x-delivery-limit": self.delivery_limit,
                    "x-dead-letter-exchange": self.dead_letter_exchange,
                },
            ),
            QueueSpec(self.dead_letter_queue, {"x-queue-type": "quorum"}),
            QueueSpec(
                self.fresh_queue,
                {
                    "x-queue-type": "classic",
                    "x-max-length": self.fresh_max_length,
                    "x-overflow": "drop-head",
                },
                # Transient: its copies are disposable, and a durable classic queue would
                # make every publish wait for its disk write (the scheduler's confirms,
                # hence every reminder's latency, ran 2.5 times slower).
                durable=False,
            ),
        )

    def bindings(self) -> tuple[BindingSpec, ...]:
        """The bindings; a fanout exchange ignores the routing key, so the DLQ's is empty."""
        return (
            BindingSpec(self.queue, self.exchange, self.binding_key),
            BindingSpec(self.dead_letter_queue, self.dead_letter_exchange, ""),
            *(BindingSpec(self.fresh_queue, self.exchange, key) for key in self.fresh_routing_keys),
        )


DEFAULT_TOPOLOGY = Topology()


def declare_blocking(channel: BlockingChannel, topology: Topology = DEFAULT_TOPOLOGY) -> None:
    """Declare the topology on a pika blocking channel (the scheduler daemons' side)."""
    for exchange in topology.exchanges():
        channel.exchange_declare(exchange.name, exchange.type, durable=True)
    for queue in topology.queues():
        channel.queue_declare(queue.name, durable=queue.durable, arguments=dict(queue.arguments))
    for binding in topology.bindings():
        channel.queue_bind(binding.queue, binding.exchange, routing_key=binding.routing_key)


async def declare_async(
    channel: AbstractChannel, topology: Topology = DEFAULT_TOPOLOGY
) -> AbstractQueue:
    """Declare the topology on an aio-pika channel (the bot's side); returns the main queue.

    The other queues are then on the channel's broker, to be had with `get_queue`.
    """
    for exchange in topology.exchanges():
        await channel.declare_exchange(exchange.name, exchange.type, durable=True)
    declared: dict[str, AbstractQueue] = {}
    for queue in topology.queues():
        declared[queue.name] = await channel.declare_queue(
            queue.name, durable=queue.durable, arguments=dict(queue.arguments)
        )
    for binding in topology.bindings():
        await declared[binding.queue].bind(binding.exchange, routing_key=binding.routing_key)
    return declared[topology.queue]
