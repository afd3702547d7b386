"""What the bot does for each event on `bot_events`: the changes users see in Discord.

Each handler runs once per `message_id` (delivery is at-least-once). Where it goes
relative to the commit (docs/bot.md has the reasoning):

- `game.status_transition_due`: the status change and the dedup record commit together;
  the message refresh follows. A duplicate changes nothing but still refreshes, which is
  how a crash between that commit and the edit heals on redelivery.
- `game.created` / `game.updated`: the refresh (idempotent: it shows the latest state)
  comes first and the dedup record after it, so a crash in between only repeats an edit.
- `game.series_due`: the series' new occurrences (games, with their schedule rows and
  `game.created` outbox events) and the dedup record commit together; the games are
  posted when their own events arrive. Making occurrences is idempotent anyway (a unique
  slot per occurrence), so a redelivery or a second consumer makes nothing twice.
- `game.reminder_due` / `game.cancelled`: DMs go out one by one, each recorded as it is
  sent (`DirectMessenger`); the event's own record is written last. A redelivery skips
  whoever was served already, so nobody is reminded twice and nobody is forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import (
    DirectMessenger,
    Recipient,
    record_keys,
    recorded_keys,
)
from game_scheduler.bot.events.transitions import Applied, AppliedTransitions, TransitionResult
from game_scheduler.bot.formatters.game_message import (
    GameMessage,
    game_message_of,
    moved_to_waitlist_text,
    reminder_text,
)
from game_scheduler.bot.formatters.news_text import cancelled_news_text, reordered_text
from game_scheduler.bot.game_news import GameNews, load_game_now
from game_scheduler.bot.refresher import MessageRefresher, PostedGame
from game_scheduler.bot.request_scheduler import Urgency, request_urgency
from game_scheduler.clock import Clock
from game_scheduler.db.models import GameSession
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import checkins, series, service
from game_scheduler.games.errors import GameNotFound, TransitionNotAllowed
from game_scheduler.messaging.consumer import EventHandler, ReceivedEvent
from game_scheduler.messaging.dedup import record_message_once
from game_scheduler.messaging.events import EventType
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

logger = logging.getLogger(__name__)

P = TypeVar("P", bound=Payload)


class Outcome(Enum):
    """What handling one event did."""

    DONE = "done"  # the change was made (and the event recorded as handled)
    DUPLICATE = "duplicate"  # handled before: nothing changed (a transition still refreshes)
    MISSING = "missing"  # the game does not exist (any more)
    NOT_ALLOWED = "not_allowed"  # the status machine refuses the transition
    SKIPPED = "skipped"  # nothing to do: a reminder for a game no longer scheduled or started


@dataclass(frozen=True)
class Route(Generic[P]):
    """One row of the dispatch table: an event type's payload model and its typed handler."""

    model: type[P]
    handler: Callable[[P, str | None], Awaitable[Outcome]]

    async def run(self, payload: Payload, message_id: str | None) -> Outcome:
        """Call the handler with the payload the consumer validated against `model`."""
        if not isinstance(payload, self.model):
            raise TypeError(f"expected {self.model.__name__}, got {type(payload).__name__}")
        return await self.handler(payload, message_id)


# The events after which a game's Discord event must follow the game.
GAME_CHANGES = frozenset(
    {
        EventType.GAME_CREATED,
        EventType.GAME_UPDATED,
        EventType.GAME_CANCELLED,
        EventType.GAME_STATUS_TRANSITION_DUE,
    }
)


@dataclass(frozen=True)
class _Audience:
    """A game as a fan-out needs it: the message, its channel and who is on the roster."""

    message: GameMessage
    channel_id: int
    confirmed: tuple[int, ...]
    waitlist: tuple[int, ...]


class EventHandlers:
    """Maps each event type to its typed handler; the consumer calls `handle` per delivery.

    The consumer has validated the payload already (`ReceivedEvent.payload`); `handle`
    dispatches on it once, and no handler validates again.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        refresher: MessageRefresher,
        messenger: DirectMessenger,
        clock: Clock,
        on_game_changed: Callable[[uuid.UUID], None] | None = None,
        news: GameNews | None = None,
        applied: AppliedTransitions | None = None,
    ) -> None:
        self._sessions = sessions
        # Transitions the triage applied for a batch (`transitions.py`), by message id.
        self._applied = applied
        self._news = news or GameNews(sessions, messenger, clock)
        # Told of every game change handled, after it: the Discord event mirror listens.
        self._on_game_changed = on_game_changed
        self._refresher = refresher
        self._messenger = messenger
        self._clock = clock
        self._routes = self._register_event_handlers()

    def _register_event_handlers(self) -> dict[EventType, Route[Any]]:
        # One row per event type; `Route` checks each handler takes its model's payload.
        return {
            EventType.GAME_CREATED: Route(GameCreatedEvent, self._on_game_created),
            EventType.GAME_UPDATED: Route(GameUpdatedEvent, self._on_game_updated),
            EventType.GAME_CANCELLED: Route(GameCancelledEvent, self._on_game_cancelled),
            EventType.GAME_REMINDER_DUE: Route(GameReminderDueEvent, self._on_game_reminder_due),
            EventType.GAME_STATUS_TRANSITION_DUE: Route(
                GameStatusTransitionDueEvent, self._on_status_transition_due
            ),
            EventType.GAME_SERIES_DUE: Route(GameSeriesDueEvent, self._on_series_due),
            EventType.GAME_CHECKIN_DUE: Route(GameCheckinDueEvent, self._on_checkin_due),
            EventType.GAME_RELEASE_DUE: Route(GameReleaseDueEvent, self._on_release_due),
        }

    def consumer_handlers(self) -> Mapping[EventType, EventHandler]:
        """The handler table in the shape `EventConsumer` takes."""
        return {event_type: self.handle for event_type in self._routes}

    async def handle(self, received: ReceivedEvent) -> Outcome:
        """Run the typed handler of the event's type on its validated payload."""
        route = self._routes[received.event_type]
        outcome = await route.run(received.payload, received.message_id)
        if self._on_game_changed and received.event_type in GAME_CHANGES:
            self._on_game_changed(uuid.UUID(str(received.event.data["game_id"])))
        return outcome

    # helpers ------------------------------------------------------------------------

    def _get_game_with_participants(
        self, session: Session, game_id: uuid.UUID, *, for_update: bool = False
    ) -> GameSession:
        return service.get_game(session, game_id, for_update=for_update)

    async def _refresh_game_message(
        self, game_id: uuid.UUID, known: PostedGame | None = None, urgency: Urgency | None = None
    ) -> None:
        await self._refresher.refresh(game_id, known, urgency)

    async def _already_handled(self, message_id: str | None) -> bool:
        if message_id is None:
            return False
        return bool(await asyncio.to_thread(recorded_keys, self._sessions, [message_id]))

    async def _mark_handled(self, message_id: str | None) -> None:
        if message_id is not None:
            await asyncio.to_thread(record_keys, self._sessions, [message_id])

    def _load_audience(self, game_id: uuid.UUID) -> _Audience | None:
        with self._sessions.begin() as session:
            try:
                game = self._get_game_with_participants(session, game_id)
            except GameNotFound:
                return None
            roster = service.roster_of(game)
            return _Audience(
                message=game_message_of(game),
                channel_id=game.channel_id,
                confirmed=tuple(p.user_id for p in roster.confirmed if p.user_id is not None),
                waitlist=tuple(p.user_id for p in roster.waitlist if p.user_id is not None),
            )

    def _without_quiet(self, audience: _Audience) -> _Audience:
        with self._sessions.begin() as session:
            quiet = checkins.quiet_users(session, audience.confirmed + audience.waitlist)
        return _Audience(
            audience.message,
            audience.channel_id,
            tuple(u for u in audience.confirmed if u not in quiet),
            tuple(u for u in audience.waitlist if u not in quiet),
        )

    # handlers -----------------------------------------------------------------------

    async def _on_game_created(self, payload: GameCreatedEvent, message_id: str | None) -> Outcome:
        """Post the new game's message (or refresh it if it was posted already)."""
        return await self._refresh_then_record(payload.game_id, message_id, "game.created")

    async def _on_game_updated(self, payload: GameUpdatedEvent, message_id: str | None) -> Outcome:
        """Show the game's latest state in its message."""
        return await self._refresh_then_record(
            payload.game_id,
            message_id,
            "game.updated",
            then=lambda: self._tell_roster_news(payload, message_id),
        )

    async def _tell_roster_news(self, payload: GameUpdatedEvent, message_id: str | None) -> None:
        await self._tell_moved_to_waitlist(payload, message_id)
        await self._news.after_update(payload, message_id)

    async def _refresh_then_record(
        self,
        game_id: uuid.UUID,
        message_id: str | None,
        event_type: str,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> Outcome:
        extra = {"game_id": str(game_id), "message_id": message_id, "event_type": event_type}
        if await self._already_handled(message_id):
            logger.info("duplicate event skipped", extra=extra)
            return Outcome.DUPLICATE
        await self._refresh_game_message(game_id)
        if then is not None:
            await then()
        await self._mark_handled(message_id)
        logger.info("game message refreshed", extra=extra)
        return Outcome.DONE

    async def _tell_moved_to_waitlist(
        self, payload: GameUpdatedEvent, message_id: str | None
    ) -> None:
        """DM each player a host's change moved to the waitlist, once per change."""
        if not payload.moved_to_waitlist:
            return
        audience = await asyncio.to_thread(self._load_audience, payload.game_id)
        if audience is None or audience.message.status is not GameStatus.SCHEDULED:
            return
        # A host's reordering, not fewer seats, may have done it: the text says which.
        waitlisted = reordered_text if payload.reordered else moved_to_waitlist_text
        # Still waiting now (someone may have left since): told their current place.
        places = {user: place for place, user in enumerate(audience.waitlist, start=1)}
        recipients = [
            Recipient(user, waitlisted(audience.message, places[user]))
            for user in payload.moved_to_waitlist
            if user in places
        ]
        await self._messenger.deliver(
            kind="waitlisted",
            scope=message_id or str(payload.game_id),
            recipients=recipients,
            channel_id=audience.channel_id,
            channel_text=waitlisted(audience.message, None),
        )

    async def _handle_status_transition_due(
        self, data: dict[str, Any], *, message_id: str | None = None
    ) -> None:
        """Move the game to the due status, commit, then refresh its message.

        The entry point for a raw event `data` dict: it validates once and takes the typed
        path `handle` takes for a delivery.
        """
        payload = GameStatusTransitionDueEvent.model_validate(data)
        await self._on_status_transition_due(payload, message_id)

    async def _on_status_transition_due(
        self, payload: GameStatusTransitionDueEvent, message_id: str | None
    ) -> Outcome:
        extra: dict[str, Any] = {
            "game_id": str(payload.game_id),
            "target_status": payload.target_status,
            "message_id": message_id,
        }
        result = self._applied.take(message_id) if self._applied is not None else None
        if result is not None:
            outcome, committed = self._batch_applied(result, payload, extra)
        else:
            outcome, committed = await asyncio.to_thread(
                self._apply_transition, payload, message_id, extra
            )
        if outcome is Outcome.DONE:
            await self._refresh_game_message(payload.game_id, committed, Urgency.STATUS)
        elif outcome is Outcome.DUPLICATE:
            await self._refresh_game_message(payload.game_id, urgency=Urgency.STATUS)
        return outcome

    def _batch_applied(
        self,
        result: TransitionResult,
        payload: GameStatusTransitionDueEvent,
        extra: dict[str, Any],
    ) -> tuple[Outcome, PostedGame | None]:
        """Log what the triage's batch did for this event, as `_apply_transition` would."""
        if result.applied is Applied.MISSING:
            logger.warning("status transition skipped: game not found", extra=extra)
            return Outcome.MISSING, None
        if result.applied is Applied.NOT_ALLOWED:
            logger.warning(
                "status transition skipped: not allowed from the current status",
                extra={**extra, "current_status": result.previous_status},
            )
            return Outcome.NOT_ALLOWED, None
        self._log_changed(payload, extra, result.previous_status)
        return Outcome.DONE, result.committed

    def _log_changed(
        self, payload: GameStatusTransitionDueEvent, extra: dict[str, Any], previous: str | None
    ) -> None:
        logger.info(
            "game status changed",
            extra={**extra, "from_status": previous, "transition_time": payload.transition_time},
        )

    def _apply_transition(
        self,
        payload: GameStatusTransitionDueEvent,
        message_id: str | None,
        extra: dict[str, Any],
    ) -> tuple[Outcome, PostedGame | None]:
        """Apply the transition: what happened, and the game as committed if it changed."""
        with self._sessions.begin() as session:
            if message_id is not None and not record_message_once(session, message_id):
                logger.info("duplicate status transition; refreshing only", extra=extra)
                return Outcome.DUPLICATE, None
            try:
                # The service loads the game with its participants (locked) and checks the
                # status machine: one place decides which transitions are allowed.
                game = service.apply_status_transition(
                    session, payload.game_id, payload.target_status, now=self._clock.now()
                )
            except GameNotFound:
                logger.warning("status transition skipped: game not found", extra=extra)
                return Outcome.MISSING, None
            except TransitionNotAllowed as exc:
                logger.warning(
                    "status transition skipped: not allowed from the current status",
                    extra={**extra, "current_status": exc.current},
                )
                return Outcome.NOT_ALLOWED, None
            # The attribute's history still holds the status the game had before.
            previous = next(iter(inspect(game).attrs.status.history.deleted), None)
            committed = PostedGame(
                game_message_of(game),
                game.channel_id,
                game.message_id,
                updated_at=game.updated_at,
                post_error=game.post_error,
            )
        self._log_changed(payload, extra, previous)
        return Outcome.DONE, committed

    async def _on_game_reminder_due(
        self, payload: GameReminderDueEvent, message_id: str | None
    ) -> Outcome:
        """DM every player once: "<title> starts <t:unix:R>", the waitlisted told so."""
        extra = {
            "game_id": str(payload.game_id),
            "reminder_minutes": payload.reminder_minutes,
            "message_id": message_id,
        }
        if await self._already_handled(message_id):
            logger.info("duplicate reminder skipped", extra=extra)
            return Outcome.DUPLICATE
        audience = await asyncio.to_thread(self._load_audience, payload.game_id)
        if audience is not None:  # those who turned reminders off (`/reminders off`)
            audience = await asyncio.to_thread(self._without_quiet, audience)
        outcome = Outcome.SKIPPED
        if audience is None:
            logger.warning("reminder skipped: game not found", extra=extra)
            outcome = Outcome.MISSING
        elif audience.message.status is not GameStatus.SCHEDULED:
            logger.info(
                "reminder skipped: game no longer scheduled",
                extra={**extra, "status": audience.message.status.value},
            )
        elif audience.message.scheduled_at <= self._clock.now():
            logger.info("reminder skipped: game already started", extra=extra)
        else:
            outcome = Outcome.DONE
            recipients = [
                Recipient(u, reminder_text(audience.message, None)) for u in audience.confirmed
            ]
            recipients += [
                Recipient(u, reminder_text(audience.message, position))
                for position, u in enumerate(audience.waitlist, start=1)
            ]
            # The reminder, not the message id, is the unit: a re-planned copy is the same one.
            scope = (
                f"{payload.game_id}:{payload.reminder_minutes}:"
                f"{int(payload.notification_time.timestamp())}"
            )
            with request_urgency(Urgency.REMINDER):
                await self._messenger.deliver(
                    kind="reminder",
                    scope=scope,
                    recipients=recipients,
                    channel_id=audience.channel_id,
                    channel_text=reminder_text(audience.message, None),
                )
        await self._mark_handled(message_id)
        return outcome

    async def _on_game_cancelled(
        self, payload: GameCancelledEvent, message_id: str | None
    ) -> Outcome:
        """Show the game as cancelled (buttons disabled) and tell its players by DM."""
        extra = {"game_id": str(payload.game_id), "message_id": message_id}
        if await self._already_handled(message_id):
            logger.info("duplicate cancellation skipped", extra=extra)
            return Outcome.DUPLICATE
        await self._refresh_game_message(payload.game_id, urgency=Urgency.STATUS)
        game = await asyncio.to_thread(load_game_now, self._sessions, payload.game_id)
        outcome = Outcome.DONE
        if game is None:
            logger.warning("cancellation DMs skipped: game not found", extra=extra)
            outcome = Outcome.MISSING
        else:
            by, reason = payload.cancelled_by, payload.reason
            text = cancelled_news_text(game.message, by, reason, game.link)
            # Whoever cancelled knows: a host who also plays is not told their own act.
            players = [u for u in game.confirmed + game.waitlist if u != by]
            with request_urgency(Urgency.REMINDER):
                await self._messenger.deliver(
                    kind="cancelled",
                    scope=str(payload.game_id),
                    recipients=[Recipient(u, text) for u in players],
                    channel_id=game.channel_id,
                    channel_text=cancelled_news_text(game.message, by, reason, None),
                )
        await self._mark_handled(message_id)
        logger.info("game cancellation shown", extra=extra)
        return outcome

    async def _on_series_due(self, payload: GameSeriesDueEvent, message_id: str | None) -> Outcome:
        """Make the series' next occurrences games; each is posted by its own game.created."""
        made = await asyncio.to_thread(self._materialise_series, payload, message_id)
        logger.info(
            "series occurrences made" if made is not None else "duplicate series event skipped",
            extra={
                "series_id": str(payload.series_id),
                "message_id": message_id,
                "games_made": made or 0,
            },
        )
        return Outcome.DUPLICATE if made is None else Outcome.DONE

    def _materialise_series(
        self, payload: GameSeriesDueEvent, message_id: str | None
    ) -> int | None:
        """Make the occurrences in one transaction with the dedup record; None if a duplicate."""
        with self._sessions.begin() as session:
            if message_id is not None and not record_message_once(session, message_id):
                return None
            made = series.materialise_series(session, payload.series_id, now=self._clock.now())
            return len(made)

    async def _on_checkin_due(
        self, payload: GameCheckinDueEvent, message_id: str | None
    ) -> Outcome:
        """Ask confirmed players to check in, each once; tell the host if players are short."""
        extra = {"game_id": str(payload.game_id), "message_id": message_id}
        if await self._already_handled(message_id):
            logger.info("duplicate check-in skipped", extra=extra)
            return Outcome.DUPLICATE
        asked = await self._news.checkin_due(payload)
        await self._mark_handled(message_id)
        logger.info("check-in sent" if asked else "check-in skipped", extra=extra)
        return Outcome.DONE if asked else Outcome.SKIPPED

    async def _on_release_due(
        self, payload: GameReleaseDueEvent, message_id: str | None
    ) -> Outcome:
        """Give unanswered seats to the waitlist; the release's game.updated tells everyone."""
        released = await asyncio.to_thread(self._news.release_due, payload, message_id)
        return Outcome.DUPLICATE if released is None else Outcome.DONE
