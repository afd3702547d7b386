"""Each builder turns a row into the event its consumers expect."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from game_scheduler.db.models import (
    EventOutbox,
    GameStatusSchedule,
    NotificationSchedule,
    SeriesSchedule,
)
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.schemas import (
    GameReminderDueEvent,
    GameStatusTransitionDueEvent,
    GameUpdatedEvent,
    parse_payload,
)
from game_scheduler.scheduler.event_builders import (
    build_game_reminder_event,
    build_outbox_event,
    build_series_due_event,
    build_status_transition_event,
)

DUE = datetime(2030, 5, 17, 18, 45, tzinfo=timezone(timedelta(hours=2)))


def test_reminder_event_carries_the_game_the_minutes_and_the_time() -> None:
    row = NotificationSchedule(
        id=uuid.uuid4(), game_id=uuid.uuid4(), reminder_minutes=15, notification_time=DUE
    )
    event = build_game_reminder_event(row)
    assert event.event_type is EventType.GAME_REMINDER_DUE
    payload = parse_payload(event)
    assert payload == GameReminderDueEvent(
        game_id=row.game_id, reminder_minutes=15, notification_time=DUE
    )
    assert event.timestamp == DUE
    assert event.timestamp.tzinfo is UTC


def test_status_transition_event_carries_the_target_status() -> None:
    row = GameStatusSchedule(
        id=uuid.uuid4(), game_id=uuid.uuid4(), target_status="COMPLETED", transition_time=DUE
    )
    event = build_status_transition_event(row)
    assert event.event_type is EventType.GAME_STATUS_TRANSITION_DUE
    payload = parse_payload(event)
    assert isinstance(payload, GameStatusTransitionDueEvent)
    assert (payload.game_id, payload.target_status) == (row.game_id, "COMPLETED")
    assert payload.transition_time == DUE


def test_outbox_event_is_the_stored_event() -> None:
    game_id = uuid.uuid4()
    row = EventOutbox(
        id=uuid.uuid4(),
        event_type="game.updated",
        payload={"game_id": str(game_id)},
        available_at=DUE,
        created_at=DUE - timedelta(seconds=1),
    )
    event = build_outbox_event(row)
    assert event.event_type is EventType.GAME_UPDATED
    assert parse_payload(event) == GameUpdatedEvent(game_id=game_id)
    assert event.timestamp == row.created_at


def test_the_same_row_always_gives_the_same_body() -> None:
    row = NotificationSchedule(
        id=uuid.uuid4(), game_id=uuid.uuid4(), reminder_minutes=60, notification_time=DUE
    )
    first = build_game_reminder_event(row).to_json_bytes()
    assert build_game_reminder_event(row).to_json_bytes() == first
    assert Event.from_json_bytes(first).data["reminder_minutes"] == 60


def test_an_outbox_row_of_unknown_type_is_refused() -> None:
    row = EventOutbox(event_type="game.exploded", payload={}, created_at=DUE)
    with pytest.raises(ValueError, match=r"game\.exploded"):
        build_outbox_event(row)


@pytest.mark.parametrize(
    "row",
    [
        NotificationSchedule(
            id=uuid.uuid4(), game_id=uuid.uuid4(), reminder_minutes=5, notification_time=DUE
        ),
        GameStatusSchedule(
            id=uuid.uuid4(), game_id=uuid.uuid4(), target_status="IN_PROGRESS", transition_time=DUE
        ),
        EventOutbox(
            id=uuid.uuid4(),
            event_type="game.created",
            payload={"game_id": str(uuid.uuid4())},
            created_at=DUE,
        ),
        SeriesSchedule(id=uuid.uuid4(), series_id=uuid.uuid4(), materialize_at=DUE),
    ],
    ids=["reminder", "transition", "outbox", "series"],
)
def test_what_goes_on_the_wire_validates_as_the_consumer_reads_it(row: object) -> None:
    # The builders skip pydantic's validation for speed; the consumer's decoding must agree.
    builders: dict[type, Callable[[Any], Event]] = {
        NotificationSchedule: build_game_reminder_event,
        GameStatusSchedule: build_status_transition_event,
        EventOutbox: build_outbox_event,
        SeriesSchedule: build_series_due_event,
    }
    event = builders[type(row)](row)
    decoded = Event.from_json_bytes(event.to_json_bytes())
    assert decoded == event
    assert parse_payload(decoded) == parse_payload(event)
