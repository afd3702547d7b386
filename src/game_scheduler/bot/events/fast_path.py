"""The bot's triage: which events of a batch need nothing from Discord, settled together.

One transaction reads, for a whole batch, which message ids are recorded as handled and
which of the named games exist (with the version their message shows). Settled without
their handlers, and recorded as handled in one statement:

- duplicates: the id is recorded (a status transition's duplicate only when the message
  already shows the game as it is, since its handler would refresh);
- missing games: the game does not exist (any more), so the handler would do nothing;
- no-op refreshes: a `game.updated` whose game's message already shows exactly what the
  game is now (`MessageRefresher.shows`: the content, read for the batch, compared with
  the last write), with no one to tell of it (`GameUpdatedEvent.has_news`: nobody
  promoted, moved to the waitlist, joined, left a full game, removed, released or moved);
- coalesced refreshes: several such `game.updated` of one game in a batch need one
  refresh, so the first goes to its handler and the others are settled; so are those of
  a game whose next write, awaited by an event in hand, has not read the game yet
  (`MessageRefresher.rereads_soon`). Safe against a crash: the event that awaits the
  write is acked only after it, which reads the game after all of them arrived, and is
  redelivered if the bot dies first.

Everything else goes to its handler. The handlers keep their own checks, so an event the
triage lets through is handled exactly as before. One thing is done ahead for them: the
batch's status transitions are applied together (`transitions.py`), and their handlers
only refresh the messages.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload, sessionmaker

from game_scheduler.bot.events.transitions import (
    AppliedTransitions,
    Transition,
    apply_transitions,
)
from game_scheduler.bot.formatters.game_message import GameMessage, game_message_of
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.clock import Clock
from game_scheduler.db.models import GameSession, ProcessedMessage
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import EventType
from game_scheduler.messaging.schemas import GameStatusTransitionDueEvent, GameUpdatedEvent
from game_scheduler.messaging.triage import IN_FLIGHT

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Events about one game, whose handler does nothing when the game is gone.
_GAME_EVENTS = frozenset(
    {
        EventType.GAME_CREATED,
        EventType.GAME_UPDATED,
        EventType.GAME_CANCELLED,
        EventType.GAME_REMINDER_DUE,
        EventType.GAME_STATUS_TRANSITION_DUE,
    }
)


# Events whose handler does nothing for a message id recorded as handled.
_SKIPPED_WHEN_RECORDED = _GAME_EVENTS - {EventType.GAME_STATUS_TRANSITION_DUE} | {
    EventType.GAME_SERIES_DUE
}


@dataclass(frozen=True)
class _Shown:
    message_id: int | None
    message: GameMessage  # what the game's message should show now


def _read(
    sessions: sessionmaker[Session],
    message_ids: list[str],
    game_ids: set[uuid.UUID],
    transition_games: dict[str, uuid.UUID],
) -> tuple[set[str], dict[uuid.UUID, _Shown | None]]:
    """The recorded ids, and the games: `None` for one that exists but was not read.

    A new transition's game is read (and locked) by the batch apply, so here it is only
    looked up; a redelivered one is read in full, to see whether its message is right.
    """
    with sessions.begin() as session:
        recorded = set(
            session.scalars(
                select(ProcessedMessage.message_id).where(
                    ProcessedMessage.message_id.in_(message_ids)
                )
            )
        )
        read = game_ids | {g for m, g in transition_games.items() if m in recorded}
        games: dict[uuid.UUID, _Shown | None] = {}
        if read:
            query = (
                select(GameSession)
                .where(GameSession.id.in_(read))
                .options(selectinload(GameSession.participants))
            )
            games = {
                game.id: _Shown(game.message_id, game_message_of(game))
                for game in session.scalars(query)
            }
        looked_up = set(transition_games.values()) - read
        if looked_up:
            for game_id in session.scalars(
                select(GameSession.id).where(GameSession.id.in_(looked_up))
            ):
                games[game_id] = None
        return recorded, games


def _record(sessions: sessionmaker[Session], message_ids: list[str]) -> None:
    with sessions.begin() as session:
        session.execute(
            insert(ProcessedMessage)
            .values([{"message_id": m} for m in message_ids])
            .on_conflict_do_nothing(index_elements=[ProcessedMessage.message_id])
        )


def _game_id(received: ReceivedEvent) -> uuid.UUID | None:
    if received.event_type not in _GAME_EVENTS:
        return None
    value = getattr(received.payload, "game_id", None)
    return value if isinstance(value, uuid.UUID) else None


def _plain_update(received: ReceivedEvent) -> bool:
    """A game.updated whose whole effect is one refresh (no one to tell of anything)."""
    payload = received.payload
    return isinstance(payload, GameUpdatedEvent) and not payload.has_news


class EventTriage:
    """Settles the events of a batch that need no Discord call; the consumer's `triage`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        refresher: MessageRefresher,
        transitions: tuple[AppliedTransitions, Clock] | None = None,
    ) -> None:
        self._sessions = sessions
        self._refresher = refresher
        # Where batch-applied transitions wait for their handlers, and the clock they use.
        self._transitions = transitions
        # Threads of its own: a batch never queues behind the handlers' database calls.
        self._executor = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="triage")

    async def _in_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def __call__(self, batch: Sequence[ReceivedEvent]) -> Collection[str]:
        """The message ids of `batch` that are settled (and recorded as handled)."""
        if not batch:
            return ()
        game_ids: set[uuid.UUID] = set()
        transition_games: dict[str, uuid.UUID] = {}
        for event in batch:
            if (game_id := _game_id(event)) is None:
                continue
            if event.event_type is EventType.GAME_STATUS_TRANSITION_DUE:
                transition_games[event.message_id] = game_id
            else:
                game_ids.add(game_id)
        recorded, games = await self._in_thread(
            _read, self._sessions, [e.message_id for e in batch], game_ids, transition_games
        )
        settled: set[str] = set()
        to_record: list[str] = []
        why: Counter[str] = Counter()
        refreshing: set[uuid.UUID] = set()  # games whose refresh a handler in this batch does
        decided: set[str] = set()  # the same message twice (both queues' copies): one decision
        for event in batch:
            if event.message_id in decided:
                continue
            decided.add(event.message_id)
            reason = self._reason(event, event.message_id in recorded, games)
            if reason is None and _plain_update(event):
                game_id = _game_id(event)
                if game_id in refreshing or (
                    game_id is not None and self._refresher.rereads_soon(game_id)
                ):
                    reason = "coalesced"
                elif game_id is not None:
                    refreshing.add(game_id)
            if reason is None:
                continue
            why[reason] += 1
            settled.add(event.message_id)
            if event.message_id not in recorded:
                to_record.append(event.message_id)
        if to_record:
            await self._in_thread(_record, self._sessions, to_record)
        await self._apply_transitions(batch, settled, recorded)
        if settled:
            logger.info(
                "events settled without Discord calls",
                extra={"batch": len(batch), **{k: why[k] for k in sorted(why)}},
            )
        return settled

    async def _apply_transitions(
        self, batch: Sequence[ReceivedEvent], settled: set[str], recorded: set[str]
    ) -> None:
        """Apply the batch's new transitions at once; their handlers take the results."""
        if self._transitions is None:
            return
        applied, clock = self._transitions
        todo: dict[uuid.UUID, Transition] = {}  # one per game: a second is its handler's
        for event in batch:
            payload = event.payload
            if (
                isinstance(payload, GameStatusTransitionDueEvent)
                and event.message_id not in settled
                and event.message_id not in recorded
                and payload.game_id not in todo
            ):
                todo[payload.game_id] = Transition(
                    event.message_id, payload.game_id, payload.target_status
                )
        if not todo:
            return
        try:
            results = await self._in_thread(
                apply_transitions, self._sessions, list(todo.values()), clock.now()
            )
        except Exception:
            # Their handlers apply them one by one then, as they would have.
            logger.exception("batched status transitions failed; left to their handlers")
            return
        applied.put(results)

    def _reason(
        self, event: ReceivedEvent, recorded: bool, games: dict[uuid.UUID, _Shown | None]
    ) -> str | None:
        """Why the event needs no handler (a log label), or None when it needs one."""
        game_id = _game_id(event)
        shown = games.get(game_id) if game_id is not None else None
        if event.event_type is EventType.GAME_STATUS_TRANSITION_DUE:
            if game_id is not None and game_id not in games:
                return "missing"
            if recorded and shown is not None and self._current(game_id, shown):
                return "duplicate"
            return None
        if recorded and event.event_type in _SKIPPED_WHEN_RECORDED:
            return "duplicate"
        if game_id is None:
            return None
        if shown is None:
            return "missing"
        if _plain_update(event) and self._current(game_id, shown):
            return "unchanged"
        return None

    def _current(self, game_id: uuid.UUID | None, shown: _Shown) -> bool:
        return game_id is not None and self._refresher.shows(
            game_id, shown.message_id, shown.message
        )
