"""Turn a due schedule or outbox row into the event the daemon publishes for it.

Builders are pure functions of the row: the envelope's `timestamp` is the row's own time
(the due time, or when the outbox event was written), so a redelivery after a crash carries
a byte-identical body under the same `message_id`.

They run for every row of a burst, so they skip pydantic's validation (`model_construct`):
the database's column types already guarantee the fields, and the tests check that every
built event validates against its payload model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from game_scheduler.db.models import (
    EventOutbox,
    GameStatusSchedule,
    NotificationSchedule,
    SeriesSchedule,
)
from game_scheduler.messaging.events import Event, EventType, utc_isoformat


def _event(event_type: EventType, at_utc: datetime, data: dict[str, Any]) -> Event:
    return Event.model_construct(event_type=event_type, timestamp=at_utc, data=data, trace_id=None)


def build_game_reminder_event(item: NotificationSchedule) -> Event:
    """The `game.reminder_due` event for a reminder row (payload: `GameReminderDueEvent`)."""
    at = item.notification_time.astimezone(UTC)
    data = {
        "game_id": str(item.game_id),
        "reminder_minutes": item.reminder_minutes,
        "notification_time": utc_isoformat(at),
    }
    return _event(EventType.GAME_REMINDER_DUE, at, data)


def build_status_transition_event(item: GameStatusSchedule) -> Event:
    """The `game.status_transition_due` event for a transition row."""
    at = item.transition_time.astimezone(UTC)
    data = {
        "game_id": str(item.game_id),
        "target_status": item.target_status,
        "transition_time": utc_isoformat(at),
    }
    return _event(EventType.GAME_STATUS_TRANSITION_DUE, at, data)


def build_outbox_event(item: EventOutbox) -> Event:
    """The event stored in an outbox row, as the API wrote it."""
    # The API validated the payload when it wrote the row; an unknown event type still
    # fails here (ValueError), loudly, instead of publishing something no consumer routes.
    at = item.created_at.astimezone(UTC)
    return _event(EventType(item.event_type), at, dict(item.payload))


def build_series_due_event(item: SeriesSchedule) -> Event:
    """The `game.series_due` event for a series schedule row (payload: `GameSeriesDueEvent`)."""
    at = item.materialize_at.astimezone(UTC)
    data = {"series_id": str(item.series_id), "materialize_at": utc_isoformat(at)}
    return _event(EventType.GAME_SERIES_DUE, at, data)
