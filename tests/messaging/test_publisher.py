"""PikaPublisher against the real broker: a batch is confirmed in full or the call raises."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pika
import pika.connection
import pytest
from pika.adapters.blocking_connection import BlockingConnection

from game_scheduler.messaging.errors import PublishError
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import (
    EventPublisher,
    OutgoingMessage,
    PikaPublisher,
    message_properties,
)
from game_scheduler.messaging.topology import Topology
from game_scheduler.testing import FakePublisher
from tests.fixtures.rabbitmq import RabbitProbe, close_all_connections
from tests.messaging.samples import outgoing, reminder, sample_payloads

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(rabbitmq_vhost_url: str, rabbitmq_topology: Topology) -> Iterator[PikaPublisher]:
    """A publisher on the test's topology."""
    publisher = PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology, connect_timeout=5)
    yield publisher
    publisher.close()


def test_every_event_type_is_routed_with_the_contract_properties(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    messages = [outgoing(t, p) for t, p in sample_payloads().items()]

    publisher.publish_batch(messages)

    for message in messages:
        got = rabbitmq_probe.get(rabbitmq_topology.queue)
        assert got is not None
        method, properties, body = got
        event_type = message.event.event_type.value
        assert method.exchange == rabbitmq_topology.exchange
        assert method.routing_key == event_type
        assert properties.content_type == "application/json"
        assert properties.delivery_mode == 2
        assert properties.message_id == message.message_id
        assert properties.type == event_type
        assert properties.timestamp == int(message.event.timestamp.timestamp())
        assert json.loads(body) == {
            "event_type": event_type,
            "timestamp": message.event.timestamp.isoformat(),
            "data": message.event.data,
            "trace_id": None,
        }
    assert rabbitmq_probe.get(rabbitmq_topology.queue) is None


def test_a_large_batch_is_confirmed_in_full(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    publisher.publish_batch([reminder() for _ in range(2000)])

    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 2000


def test_a_batch_goes_out_in_one_socket_write(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    publisher.connect()
    before = publisher.writes

    batch = publisher.start_batch([reminder() for _ in range(500)])

    assert publisher.writes - before == 1  # 1,500 frames, one buffer
    publisher.wait_confirmed(batch)
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 500


def test_a_started_batch_reaches_the_broker_before_anything_else_is_called(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    # The daemon claims its next batch before waiting for this one's confirms: the
    # messages must not sit in pika's buffer meanwhile.
    batch = publisher.start_batch([reminder() for _ in range(16)])

    deadline = time.monotonic() + 5
    while rabbitmq_probe.depth(rabbitmq_topology.queue) < 16 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 16
    publisher.wait_confirmed(batch)


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (pika.connection.Connection, "_output_marshaled_frames"),
        (BlockingConnection, "__init__"),  # replaced by one without `_impl_class`
    ],
)
def test_a_pika_without_the_internals_we_use_is_a_clear_publish_error(
    publisher: PikaPublisher, monkeypatch: pytest.MonkeyPatch, owner: type, name: str
) -> None:
    if name == "__init__":
        monkeypatch.setattr(owner, name, lambda self, parameters=None: None)
    else:
        monkeypatch.delattr(owner, name)

    with pytest.raises(PublishError, match=f"pika {re.escape(pika.__version__)} has no"):
        publisher.connect()
    with pytest.raises(PublishError, match="has no"):
        publisher.publish_batch([reminder()])


def test_two_batches_in_flight_are_each_confirmed(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    first = publisher.start_batch([reminder() for _ in range(500)])
    second = publisher.start_batch([reminder() for _ in range(500)])

    publisher.wait_confirmed(first)
    publisher.wait_confirmed(second)

    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 1000


def test_an_unroutable_message_raises(rabbitmq_vhost_url: str, rabbitmq_probe: RabbitProbe) -> None:
    exchange = f"t-{uuid.uuid4().hex[:8]}.unbound"
    rabbitmq_probe.channel.exchange_declare(exchange, "topic", durable=True)
    publisher = PikaPublisher(
        rabbitmq_vhost_url, topology=Topology(exchange=exchange), declare=False
    )
    message = reminder()
    try:
        with pytest.raises(PublishError) as raised:
            publisher.publish_batch([message])
    finally:
        publisher.close()
        rabbitmq_probe.channel.exchange_delete(exchange)

    assert raised.value.failed_message_ids == (message.message_id,)
    assert raised.value.message_ids == (message.message_id,)


def test_a_missing_exchange_raises_and_the_next_batch_works_once_it_exists(
    rabbitmq_vhost_url: str, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    missing = Topology(exchange=f"t-{uuid.uuid4().hex[:8]}.missing", queue=rabbitmq_topology.queue)
    publisher = PikaPublisher(rabbitmq_vhost_url, topology=missing, declare=False)
    try:
        with pytest.raises(PublishError):
            publisher.publish_batch([reminder()])

        rabbitmq_probe.channel.exchange_declare(missing.exchange, "topic", durable=True)
        rabbitmq_probe.channel.queue_bind(missing.queue, missing.exchange, "game.#")
        publisher.publish_batch([reminder()])
    finally:
        publisher.close()
        rabbitmq_probe.channel.exchange_delete(missing.exchange)

    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 1


def test_a_nacked_message_raises(
    publisher: PikaPublisher, rabbitmq_topology: Topology, rabbitmq_probe: RabbitProbe
) -> None:
    full = f"{rabbitmq_topology.queue}.full"
    rabbitmq_probe.channel.queue_declare(
        full, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    rabbitmq_probe.channel.queue_bind(full, rabbitmq_topology.exchange, "game.#")
    try:
        with pytest.raises(PublishError, match="nacked") as raised:
            publisher.publish_batch([reminder() for _ in range(3)])
    finally:
        rabbitmq_probe.channel.queue_delete(full)

    assert len(raised.value.failed_message_ids) == 3
    publisher.publish_batch([reminder()])  # the same connection carries on


class _ConnectionKillingEvent(Event):
    """An event whose encoding force-closes the vhost's connections: a death mid-batch."""

    def to_json_bytes(self) -> bytes:
        close_all_connections(_KILL_VHOST[0])
        return super().to_json_bytes()


_KILL_VHOST: list[str] = []


def test_a_connection_lost_mid_batch_raises_and_the_next_batch_reconnects(
    publisher: PikaPublisher,
    rabbitmq_vhost: str,
    rabbitmq_topology: Topology,
    rabbitmq_probe: RabbitProbe,
) -> None:
    _KILL_VHOST[:] = [rabbitmq_vhost]
    publisher.publish_batch([reminder()])
    killer = _ConnectionKillingEvent(
        event_type=EventType.GAME_UPDATED, data={"game_id": str(uuid.uuid4())}
    )
    batch = [reminder() for _ in range(50)]
    batch.insert(25, OutgoingMessage(message_id="killer", event=killer))

    with pytest.raises(PublishError) as raised:
        publisher.publish_batch(batch)

    assert len(raised.value.message_ids) == 51
    publisher.publish_batch([reminder()])
    assert publisher.reconnects == 1
    # The first message and the last one at least; the killed batch is partly lost.
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) >= 2


def test_a_connection_lost_with_two_batches_in_flight_fails_the_unconfirmed_one(
    publisher: PikaPublisher, rabbitmq_vhost: str
) -> None:
    _KILL_VHOST[:] = [rabbitmq_vhost]
    first = publisher.start_batch([reminder() for _ in range(100)])
    killer = _ConnectionKillingEvent(
        event_type=EventType.GAME_UPDATED, data={"game_id": str(uuid.uuid4())}
    )
    doomed = [reminder() for _ in range(50)]
    doomed.insert(25, OutgoingMessage(message_id="killer", event=killer))

    def send_doomed_then_wait_for_both() -> None:
        second = publisher.start_batch(doomed)  # the kill comes halfway through writing it
        # The first batch may have been confirmed before the kill; the second cannot be.
        with contextlib.suppress(PublishError):
            publisher.wait_confirmed(first)
        publisher.wait_confirmed(second)

    with pytest.raises(PublishError) as raised:
        send_doomed_then_wait_for_both()

    assert len(raised.value.message_ids) == 51
    publisher.publish_batch([reminder()])  # and the next batch reconnects


def test_the_first_batch_after_a_broker_side_close_goes_out_on_a_new_connection(
    publisher: PikaPublisher,
    rabbitmq_vhost: str,
    rabbitmq_topology: Topology,
    rabbitmq_probe: RabbitProbe,
) -> None:
    publisher.connect()
    close_all_connections(rabbitmq_vhost)

    publisher.publish_batch([reminder()])

    assert publisher.reconnects == 1
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 1


def test_keepalive_survives_a_dead_connection_and_publishing_reconnects(
    publisher: PikaPublisher, rabbitmq_vhost: str
) -> None:
    publisher.keepalive()  # not connected yet: nothing to do
    publisher.connect()
    publisher.keepalive()
    close_all_connections(rabbitmq_vhost)

    for _ in range(3):
        publisher.keepalive()

    publisher.publish_batch([reminder()])
    assert publisher.is_connected


def test_declaring_twice_is_idempotent(
    rabbitmq_vhost_url: str, rabbitmq_topology: Topology, rabbitmq_connection: BlockingConnection
) -> None:
    for _ in range(2):
        publisher = PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology)
        publisher.connect()
        publisher.close()


@pytest.fixture(params=["pika", "fake"])
def any_publisher(
    request: pytest.FixtureRequest, rabbitmq_vhost_url: str, rabbitmq_topology: Topology
) -> Iterator[EventPublisher]:
    """The real publisher and the fake, for the behaviour both must share."""
    publisher: EventPublisher
    if request.param == "pika":
        publisher = PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology)
    else:
        publisher = FakePublisher()
    yield publisher
    publisher.close()


def test_conformance_of_real_and_fake_publishers(any_publisher: EventPublisher) -> None:
    any_publisher.publish_batch([])
    any_publisher.keepalive()
    any_publisher.publish_batch([reminder(), reminder()])
    started = [any_publisher.start_batch([reminder()]) for _ in range(2)]
    for batch in started:
        any_publisher.wait_confirmed(batch)
    any_publisher.keepalive()
    any_publisher.close()
    any_publisher.close()
    with pytest.raises(PublishError):
        any_publisher.publish_batch([reminder()])


def test_fake_publisher_records_batches_and_fails_on_request() -> None:
    fake = FakePublisher()
    first, second = reminder(), reminder()
    fake.fail_next(2)

    for _ in range(2):
        with pytest.raises(PublishError):
            fake.publish_batch([first])
    fake.publish_batch([first, second])

    assert fake.published == [first, second]
    assert fake.batches == [[first, second]]


def test_timestamps_are_sent_as_posix_seconds() -> None:
    event = Event(
        event_type=EventType.GAME_CREATED,
        data={"game_id": str(uuid.uuid4())},
        timestamp=datetime(2030, 1, 1, 12, 0, 30, 900_000, tzinfo=UTC),
    )
    properties = message_properties(OutgoingMessage(message_id="m", event=event))
    assert properties.timestamp == int(event.timestamp.timestamp())
