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

    The rest says what changed for whom, and the bot DMs each of them once (docs/bot.md):
    `moved_to_waitlist` (a seat lost to fewer seats or a move up), `promoted` (a seat won
    from the waitlist), `joined`, `left` (and whether the game was full), `removed` (by the
    host), `released` (no check-in answer), `previous_scheduled_at` (the game moved).
    """

    game_id: UUID
    moved_to_waitlist: tuple[int, ...] = ()
    promoted: tuple[int, ...] = ()
    joined: int | None = None
    left: int | None = None
    left_full: bool = False
    removed: tuple[int, ...] = ()
    released: tuple[int, ...] = ()
    previous_scheduled_at: AwareDatetime | None = None
    reordered: bool = False  # the host moved a player up (so `moved_to_waitlist` is theirs)

    @property
    def has_news(self) -> bool:
        """Whether someone is to be told of this change, beyond the message's refresh."""
        return self != GameUpdatedEvent(game_id=self.game_id)


class GameCancelledEvent(Payload):
    """Published when a game is cancelled: the bot marks the message and tells players.

    `cancelled_by` is the person who cancelled (None: the admin or a script), `reason` what
    they gave, if anything.
    """

    game_id: UUID
    cancelled_by: int | None = None
    reason: str | None = None


class GameCheckinDueEvent(Payload):
    """Due `checkin_minutes` before the start planned as `scheduled_for`: the bot asks
    confirmed players to check in (and tells the host if the game is short of players)."""

    game_id: UUID
    scheduled_for: AwareDatetime


class GameReleaseDueEvent(Payload):
    """Due `release_minutes` before the start planned as `scheduled_for`: seats of players
    who did not answer the check-in go to the waitlist."""

    game_id: UUID
    scheduled_for: AwareDatetime


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
    EventType.GAME_CHECKIN_DUE: GameCheckinDueEvent,
    EventType.GAME_RELEASE_DUE: GameReleaseDueEvent,
}


def parse_payload(event: Event) -> Payload:
    """Validate an event's data against its type's model; raises pydantic's ValidationError."""
    return PAYLOAD_MODELS[event.event_type].model_validate(event.data)
