"""One pydantic model per event payload, and the registry from event type to model."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from game_scheduler.messaging.events import Event, EventType


class Payload(BaseModel):
    """The `data` of an event; `model_dump(mode="json")` gives it JSON-ready."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class GameCreatedEvent(Payload):
    """Published (through the outbox) when a host creates a game: the bot posts it."""

    game_id: UUID


class GameUpdatedEvent(Payload):
    """Published when a game or its roster changes: the bot refreshes its message.

    `moved_to_waitlist` names the players an edit (fewer seats) moved from a seat to the
    waitlist, in waitlist order; the bot DMs each of them once.
    """

    game_id: UUID
    moved_to_waitlist: tuple[int, ...] = ()


class GameCancelledEvent(Payload):
    """Published when a game is cancelled: the bot marks the message and tells players."""

    game_id: UUID


class GameReminderDueEvent(Payload):
    """Published by the notifications daemon at `notification_time`: the bot DMs players."""

    game_id: UUID
    reminder_minutes: int
    notification_time: AwareDatetime


class GameStatusTransitionDueEvent(Payload):
    """Published by the status-transitions daemon at `transition_time`.

    The bot moves the game to `target_status` (if the status machine allows it from the
    game's current status) and refreshes its Discord message.
    """

    game_id: UUID
    target_status: str
    transition_time: datetime


class GameSeriesDueEvent(Payload):
    """Published by the series daemon at `materialize_at`: the consumer makes the series'
    next occurrences games (every one within the horizon, and the next one to be played)."""

    series_id: UUID
    materialize_at: AwareDatetime


PAYLOAD_MODELS: dict[EventType, type[Payload]] = {
    EventType.GAME_CREATED: GameCreatedEvent,
    EventType.GAME_UPDATED: GameUpdatedEvent,
    EventType.GAME_CANCELLED: GameCancelledEvent,
    EventType.GAME_REMINDER_DUE: GameReminderDueEvent,
    EventType.GAME_STATUS_TRANSITION_DUE: GameStatusTransitionDueEvent,
    EventType.GAME_SERIES_DUE: GameSeriesDueEvent,
}


def parse_payload(event: Event) -> Payload:
    """Validate an event's data against its type's model; raises pydantic's ValidationError."""
    return PAYLOAD_MODELS[event.event_type].model_validate(event.data)
