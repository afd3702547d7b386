"""Deduplication on message_id, in the handler's own transaction, on a real database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import ProcessedMessage
from game_scheduler.messaging.consumer import EventConsumer, ReceivedEvent
from game_scheduler.messaging.dedup import forget_processed_before, record_message_once
from game_scheduler.messaging.events import EventType
from game_scheduler.messaging.publisher import PikaPublisher
from game_scheduler.messaging.topology import Topology
from tests.fixtures.rabbitmq import RabbitProbe
from tests.messaging.samples import reminder

pytestmark = pytest.mark.integration


def test_an_id_is_recorded_once(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        assert record_message_once(session, "m-1") is True
        assert record_message_once(session, "m-1") is False
    with session_factory.begin() as session:
        assert record_message_once(session, "m-1") is False
        assert record_message_once(session, "m-2") is True


def test_a_rolled_back_record_is_forgotten(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        assert record_message_once(session, "m-1") is True
        session.rollback()
    with session_factory.begin() as session:
        assert record_message_once(session, "m-1") is True


def test_a_concurrent_record_waits_for_the_first_to_commit(
    session_factory: sessionmaker[Session],
) -> None:
    results: list[bool] = []
    with session_factory() as first:
        assert record_message_once(first, "m-1") is True

        def second() -> None:
            with session_factory.begin() as session:
                results.append(record_message_once(session, "m-1"))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # blocked on the first transaction's row
        first.commit()
        thread.join(10)

    assert results == [False]


def test_old_records_can_be_forgotten(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        record_message_once(session, "old")
        session.execute(
            text("UPDATE processed_messages SET processed_at = now() - interval '30 days'")
        )
        record_message_once(session, "new")
    with session_factory.begin() as session:
        assert forget_processed_before(session, datetime.now(UTC) - timedelta(days=7)) == 1
        remaining = session.scalars(select(ProcessedMessage.message_id)).all()
    assert remaining == ["new"]


@pytest.fixture
def publisher(rabbitmq_vhost_url: str, rabbitmq_topology: Topology) -> Iterator[PikaPublisher]:
    """A publisher on the test's topology."""
    publisher = PikaPublisher(rabbitmq_vhost_url, topology=rabbitmq_topology)
    yield publisher
    publisher.close()


async def test_a_message_delivered_twice_is_handled_once(
    rabbitmq_vhost_url: str,
    rabbitmq_topology: Topology,
    rabbitmq_probe: RabbitProbe,
    publisher: PikaPublisher,
    session_factory: sessionmaker[Session],
) -> None:
    deliveries: list[str] = []
    handled: list[str] = []

    def handle_in_transaction(received: ReceivedEvent) -> None:
        with session_factory.begin() as session:
            deliveries.append(received.message_id)
            if record_message_once(session, received.message_id):
                handled.append(received.message_id)

    async def handler(received: ReceivedEvent) -> None:
        await asyncio.to_thread(handle_in_transaction, received)

    message = reminder()
    # A scheduler that died between publish and commit publishes the same row again.
    publisher.publish_batch([message])
    publisher.publish_batch([message])
    consumer = EventConsumer(
        rabbitmq_vhost_url, dict.fromkeys(EventType, handler), topology=rabbitmq_topology
    )
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.wait_consuming(), 10)
        for _ in range(500):
            if deliveries and rabbitmq_probe.depth(rabbitmq_topology.queue) == 0:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # room for a wrong second handling to show up
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)

    # The consumer remembers what it handled: the copies after the first (the republished
    # one, and each one's fresh-queue copy) never reach the handler.
    assert deliveries == [message.message_id]
    assert handled == [message.message_id]
    assert rabbitmq_probe.depth(rabbitmq_topology.queue) == 0
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedMessage)) == 1
