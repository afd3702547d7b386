"""EventConsumer against the real broker: dispatch, ack, retry, dead-lettering, reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from game_scheduler.messaging.consumer import EventConsumer, EventHandler, ReceivedEvent
from game_scheduler.messaging.events import EventType
from game_scheduler.messaging.metrics import ConsumerMetrics
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.topology import Topology
from tests.fixtures.rabbitmq import RabbitProbe, close_all_connections
from tests.messaging.samples import outgoing, reminder, sample_payloads

pytestmark = pytest.mark.integration

# The consumers these tests start record here, as the bot's record on the bot's registry.
METRICS = ConsumerMetrics.create(CollectorRegistry())


class Recorder:
    """A handler that records what it handled and fails its first `failures` attempts."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.handled: list[ReceivedEvent] = []
        self.attempts: list[ReceivedEvent] = []
        self.failures = failures
        self.delay = delay

    async def __call__(self, received: ReceivedEvent) -> None:
        self.attempts.append(received)
        if self.delay:
            await asyncio.sleep(self.delay)
        if len(self.attempts) <= self.failures:
            raise RuntimeError(f"failure {len(self.attempts)}")
        self.handled.append(received)


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `predicate()` holds, or fail the test."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def publisher(rabbitmq_vhost_url: str, rabbitmq_topology: Topology) -> Iterator[PikaPublisher]:
    """A publisher on the test's topology."""
    publisher = PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology)
    yield publisher
    publisher.close()


@pytest.fixture
def start(
    rabbitmq_vhost_url: str, rabbitmq_topology: Topology
) -> Callable[[Mapping[EventType, EventHandler]], contextlib.AbstractAsyncContextManager[Any]]:
    """Run a consumer with the given handlers for the duration of an `async with`."""

    @contextlib.asynccontextmanager
    async def running(handlers: Mapping[EventType, EventHandler]) -> AsyncIterator[EventConsumer]:
        consumer = EventConsumer(
            rabbitmq_vhost_url,
            handlers,
            topology=rabbitmq_topology,
            retry_delay=0.01,
            reconnect_interval=0.5,
            metrics=METRICS,
        )
        task = asyncio.create_task(consumer.run())
        try:
            await asyncio.wait_for(consumer.wait_consuming(), 10)
            yield consumer
        finally:
            consumer.stop()
            await asyncio.wait_for(task, 10)

    return running


def every_type(handler: EventHandler) -> dict[EventType, EventHandler]:
    """The same handler for every event type."""
    return dict.fromkeys(EventType, handler)


def metric(name: str, **labels: str) -> float:
    """The current value of a sample of the consumers' metrics (0 if never set)."""
    return METRICS.registry.get_sample_value(name, labels) or 0.0


async def publish(publisher: PikaPublisher, *messages: OutgoingMessage) -> None:
    """Publish without blocking the event loop the consumer runs on."""
    await asyncio.to_thread(publisher.publish_batch, list(messages))


async def test_every_event_type_round_trips_with_its_typed_payload(
    start: Any, publisher: PikaPublisher
) -> None:
    recorder = Recorder()
    payloads = sample_payloads()
    messages = {t: outgoing(t, p) for t, p in payloads.items()}
    handled_before = metric(
        "game_scheduler_bot_events_handled_total", event_type="game.reminder_due"
    )

    async with start(every_type(recorder)):
        await publish(publisher, *messages.values())
        await eventually(lambda: len(recorder.handled) == len(messages))

    by_type = {r.event_type: r for r in recorder.handled}
    assert set(by_type) == set(EventType)
    for event_type, received in by_type.items():
        assert received.message_id == messages[event_type].message_id
        assert received.event == messages[event_type].event
        assert received.payload == payloads[event_type]
        assert type(received.payload) is type(payloads[event_type])
    assert (
        metric("game_scheduler_bot_events_handled_total", event_type="game.reminder_due")
        == handled_before + 1
    )


async def test_poison_messages_go_to_the_dlq_and_good_ones_still_flow(
    start: Any, publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    recorder = Recorder()
    good = json.loads(reminder().event.to_json_bytes())
    poison: list[tuple[str, bytes, dict[str, Any]]] = [
        ("game.reminder_due", b"{not json", {"message_id": "bad-json"}),
        (
            "game.exploded",
            json.dumps({**good, "event_type": "game.exploded"}).encode(),
            {"message_id": "unknown-type"},
        ),
        (
            "game.reminder_due",
            json.dumps({**good, "data": {"game_id": "not-a-uuid"}}).encode(),
            {"message_id": "bad-payload"},
        ),
        ("game.reminder_due", json.dumps(good).encode(), {}),  # no message_id
    ]
    for routing_key, body, properties in poison:
        rabbitmq_probe.publish_raw(rabbitmq_topology.exchange, routing_key, body, **properties)
    after = reminder()

    async with start(every_type(recorder)):
        await publish(publisher, after)
        await eventually(lambda: len(recorder.handled) == 1)
        await eventually(lambda: rabbitmq_probe.depth(rabbitmq_topology.dead_letter_queue) == 4)

    assert [r.message_id for r in recorder.handled] == [after.message_id]
    assert recorder.attempts == recorder.handled  # poison never reached the handler
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 0


async def test_a_type_without_a_handler_is_dead_lettered(
    start: Any, publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    recorder = Recorder()
    handlers: dict[EventType, EventHandler] = {EventType.GAME_CREATED: recorder}

    async with start(handlers):
        await publish(publisher, reminder())
        await eventually(lambda: rabbitmq_probe.depth(rabbitmq_topology.dead_letter_queue) == 1)

    assert recorder.attempts == []


async def test_a_handler_that_fails_twice_then_succeeds_is_handled_once(
    start: Any, publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    recorder = Recorder(failures=2)  # the fixture topology allows 2 failed deliveries
    message = reminder()

    async with start(every_type(recorder)):
        await publish(publisher, message)
        await eventually(lambda: len(recorder.handled) == 1)
        await asyncio.sleep(0.2)  # room for a wrong extra delivery to show up

    # The fresh queue's copy is tried at most once (not while bot_events' copy is in
    # hand) and dropped when it fails; bot_events' copy is retried until it works.
    assert [r.message_id for r in recorder.attempts] == [message.message_id] * 3
    assert sorted(r.delivery_count for r in recorder.attempts) in ([0, 0, 1], [0, 1, 2])
    assert len(recorder.handled) == 1
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 0
    assert rabbitmq_probe.depth(rabbitmq_topology.dead_letter_queue) == 0


async def test_a_message_that_always_fails_ends_in_the_dlq_after_the_delivery_limit(
    start: Any, publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    recorder = Recorder(failures=1_000)
    message = reminder()
    dead_before = metric(
        "game_scheduler_bot_events_failed_total",
        event_type="game.reminder_due",
        outcome="dead_letter",
    )

    async with start(every_type(recorder)):
        await publish(publisher, message)
        await eventually(lambda: rabbitmq_probe.depth(rabbitmq_topology.dead_letter_queue) == 1)
        await asyncio.sleep(0.2)

    # Every delivery of bot_events' copy, and the fresh copy at most once.
    deliveries = rabbitmq_topology.delivery_limit + 1
    assert len(recorder.attempts) in (deliveries, deliveries + 1)
    assert recorder.handled == []
    got = rabbitmq_probe.get(rabbitmq_topology.dead_letter_queue)
    assert got is not None
    assert got[1].message_id == message.message_id
    assert (
        metric(
            "game_scheduler_bot_events_failed_total",
            event_type="game.reminder_due",
            outcome="dead_letter",
        )
        == dead_before + 1
    )


async def test_the_consumer_carries_on_after_its_connection_is_closed(
    start: Any,
    publisher: PikaPublisher,
    rabbitmq_vhost: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    before, after = reminder(), reminder()

    async with start(every_type(recorder)) as consumer:
        await publish(publisher, before)
        await eventually(lambda: len(recorder.handled) == 1)
        assert consumer.problem is None

        await asyncio.to_thread(close_all_connections, rabbitmq_vhost)
        await publish(publisher, after)  # the publisher reconnects on its own too
        await eventually(lambda: len(recorder.handled) == 2, within=20)
        # The loss was noticed (the health check failed meanwhile) and is over now.
        await eventually(lambda: consumer.problem is None)
        assert "broker connection lost; reconnecting" in caplog.text

    assert [r.message_id for r in recorder.handled] == [before.message_id, after.message_id]


async def test_stop_finishes_the_message_in_hand(
    rabbitmq_vhost_url: str,
    rabbitmq_topology: Topology,
    publisher: PikaPublisher,
    rabbitmq_probe: RabbitProbe,
) -> None:
    recorder = Recorder(delay=0.5)
    consumer = EventConsumer(rabbitmq_vhost_url, every_type(recorder), topology=rabbitmq_topology)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(consumer.wait_consuming(), 10)
    await publish(publisher, reminder())
    await eventually(lambda: len(recorder.attempts) == 1)

    consumer.stop()
    await asyncio.wait_for(task, 10)

    assert len(recorder.handled) == 1
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 0  # acked, not requeued
