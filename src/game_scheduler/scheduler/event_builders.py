"""Turn a due schedule or outbox row into the event the daemon publishes for it.

Builders are pure functions of the row: the envelope's `timestamp` is the row's own time
(the due time, or when the outbox event was written), so a redelivery after a crash carries
a byte-identical body under the same `message_id`.
"""

from __future__ import annotations

from game_scheduler.db.models import EventOutbox, GameStatusSchedule, NotificationSchedule
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.schemas import GameReminderDueEvent, GameStatusTransitionDueEvent


def build_game_reminder_event(item: NotificationSchedule) -> Event:
    """The `game.reminder_due` event for a reminder row."""
    payload = GameReminderDueEvent(
        game_id=item.game_id,
        reminder_minutes=item.reminder_minutes,
        notification_time=item.notification_time,
    )
    return Event(
        event_type=EventType.GAME_REMINDER_DUE,
        timestamp=item.notification_time,
        data=payload.to_data(),
    )


def build_status_transition_event(item: GameStatusSchedule) -> Event:
    """The `game.status_transition_due` event for a status-transition row."""
    payload = GameStatusTransitionDueEvent(
        game_id=item.game_id,
        target_status=item.target_status,
        transition_time=item.transition_time,
    )
    return Event(
        event_type=EventType.GAME_STATUS_TRANSITION_DUE,
        timestamp=item.transition_time,
        data=payload.to_data(),
    )


def build_outbox_event(item: EventOutbox) -> Event:
    """The event stored in an outbox row, as the API wrote it."""
    # The API validated the payload when it wrote the row; an unknown event type still
    # fails here (ValueError), loudly, instead of publishing something no consumer routes.
    return Event(
        event_type=EventType(item.event_type),
        timestamp=item.created_at,
        data=dict(item.payload),
    )
