"""One valid event of every type, for round trips."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage
from game_scheduler.messaging.schemas import (
    GameCancelledEvent,
    GameCheckinDueEvent,
    GameCreatedEvent,
    GameReleaseDueEvent,
    GameReminderDueEvent,
    GameSeriesDueEvent,
    GameStatusTransitionDueEvent,
    GameUpdatedEvent,
    Payload,
)

WHEN = datetime(2030, 5, 17, 18, 30, tzinfo=UTC)


def sample_payloads() -> dict[EventType, Payload]:
    """A payload for each event type."""
    game_id = uuid.uuid4()
    return {
        EventType.GAME_CREATED: GameCreatedEvent(game_id=game_id),
        EventType.GAME_UPDATED: GameUpdatedEvent(game_id=game_id),
        EventType.GAME_CANCELLED: GameCancelledEvent(game_id=game_id),
        EventType.GAME_REMINDER_DUE: GameReminderDueEvent(
            game_id=game_id, reminder_minutes=15, notification_time=WHEN
        ),
        EventType.GAME_STATUS_TRANSITION_DUE: GameStatusTransitionDueEvent(
            game_id=game_id, target_status="IN_PROGRESS", transition_time=WHEN
        ),
        EventType.GAME_SERIES_DUE: GameSeriesDueEvent(series_id=uuid.uuid4(), materialize_at=WHEN),
        EventType.GAME_CHECKIN_DUE: GameCheckinDueEvent(game_id=game_id, scheduled_for=WHEN),
        EventType.GAME_RELEASE_DUE: GameReleaseDueEvent(game_id=game_id, scheduled_for=WHEN),
    }


def outgoing(
    event_type: EventType, payload: Payload, message_id: str | None = None
) -> OutgoingMessage:
    """An outgoing message for a payload, with a fresh id unless one is given."""
    event = Event(event_type=event_type, data=payload.model_dump(mode="json"))
    return OutgoingMessage(message_id=message_id or str(uuid.uuid4()), event=event)


def reminder(message_id: str | None = None) -> OutgoingMessage:
    """A reminder event, the commonest message."""
    payload = GameReminderDueEvent(
        game_id=uuid.uuid4(), reminder_minutes=60, notification_time=WHEN
    )
    return outgoing(EventType.GAME_REMINDER_DUE, payload, message_id)
