"""Confirmed publish throughput of `PikaPublisher` for batches of 1, 100 and 500.

Runs against the local RabbitMQ (RABBITMQ_URL, default the local guest account) on a
uniquely named copy of the production topology, so every message is really routed to a
quorum queue; deletes it afterwards. Prints JSON: {"batch_N": {"msgs_per_s": ...}, ...}.

    .venv/bin/python bench/publish.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import UTC, datetime

import pika

from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.schemas import GameReminderDueEvent
from game_scheduler.testing import delete_topology, prefixed_topology

BATCH_SIZES = (1, 100, 500)


def make_batch(size: int) -> list[OutgoingMessage]:
    """A batch of reminder events like the notifications daemon publishes."""
    now = datetime.now(UTC)
    messages = []
    for _ in range(size):
        payload = GameReminderDueEvent(
            game_id=uuid.uuid4(), reminder_minutes=15, notification_time=now
        )
        event = Event(event_type=EventType.GAME_REMINDER_DUE, data=payload.model_dump(mode="json"))
        messages.append(OutgoingMessage(message_id=str(uuid.uuid4()), event=event))
    return messages


def measure(publisher: PikaPublisher, batch_size: int, seconds: float) -> dict[str, float]:
    """Publish pre-built batches for about `seconds` and report confirmed messages per second."""
    batches = [make_batch(batch_size) for _ in range(max(1, min(200, int(20_000 / batch_size))))]
    publisher.publish_batch(batches[0])  # warm-up: connection, declaration, first confirms
    sent = 0
    started = time.perf_counter()
    elapsed = 0.0
    i = 0
    while elapsed < seconds:
        publisher.publish_batch(batches[i % len(batches)])
        sent += batch_size
        i += 1
        elapsed = time.perf_counter() - started
    return {"msgs_per_s": round(sent / elapsed, 1), "messages": sent, "seconds": round(elapsed, 3)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration per batch size")
    args = parser.parse_args()
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    topology = prefixed_topology(f"bench-{uuid.uuid4().hex[:8]}.")
    publisher = PikaPublisher(url, topology=topology)
    results: dict[str, dict[str, float]] = {}
    try:
        for size in BATCH_SIZES:
            results[f"batch_{size}"] = measure(publisher, size, args.seconds)
    finally:
        publisher.close()
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            delete_topology(connection.channel(), topology)
        finally:
            connection.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
