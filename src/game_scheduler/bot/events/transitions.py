"""Status transitions of a whole batch applied in one transaction, ahead of their handlers.

At a busy start minute a thousand `game.status_transition_due` arrive at once, and
applying each in a transaction of its own (dedup record, locked read of the game and its
players, update, commit) costs the bot's interpreter more than the start edits leave it:
the edits then wait for their games, not for Discord. The triage hands the batch's
transitions to `apply_transitions`, which does the same work for all of them in five
statements: record the message ids, lock the games, check each against the status
machine, update the allowed ones per target status, read them back with their players.

The results wait in `AppliedTransitions` for the events' handlers, which then only
refresh the messages. The guarantees stay the handler's own: the dedup records and the
status changes commit together, and an event is acknowledged only after its handler
refreshed, so a crash in between is a redelivery whose handler finds the record and
refreshes (the duplicate path).
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload, sessionmaker

from game_scheduler.bot.formatters.game_message import game_message_of
from game_scheduler.bot.refresher import PostedGame
from game_scheduler.db.models import GameSession, ProcessedMessage
from game_scheduler.domain.status import GameStatus, is_valid_transition

logger = logging.getLogger(__name__)

KEPT = 10_000  # results awaiting their handlers; more means handlers that never came


class Applied(Enum):
    """What applying one transition did."""

    CHANGED = "changed"
    NOT_ALLOWED = "not_allowed"
    MISSING = "missing"


@dataclass(frozen=True)
class Transition:
    """One status transition event of a batch."""

    message_id: str
    game_id: uuid.UUID
    target_status: str


@dataclass(frozen=True)
class TransitionResult:
    """A transition applied (and its message id recorded): the game as committed if changed."""

    applied: Applied
    previous_status: str | None = None
    committed: PostedGame | None = None


def apply_transitions(
    sessions: sessionmaker[Session], transitions: Sequence[Transition], now: datetime
) -> dict[str, TransitionResult]:
    """Apply the transitions not recorded yet, in one transaction; results by message id.

    Those already recorded are left out: their handlers take the duplicate path. One
    transition per game at most (the caller's choice), so no game changes twice here.
    """
    if not transitions:
        return {}
    with sessions.begin() as session:
        fresh = set(
            session.scalars(
                insert(ProcessedMessage)
                .values([{"message_id": t.message_id} for t in transitions])
                .on_conflict_do_nothing(index_elements=[ProcessedMessage.message_id])
                .returning(ProcessedMessage.message_id)
            )
        )
        todo = [t for t in transitions if t.message_id in fresh]
        if not todo:
            return {}
        # Locked in id order, as concurrent batches lock them: no deadlock between them.
        locked = session.execute(
            select(GameSession.id, GameSession.status)
            .where(GameSession.id.in_(sorted({t.game_id for t in todo})))
            .order_by(GameSession.id)
            .with_for_update()
        )
        current: dict[uuid.UUID, str] = {game_id: status for game_id, status in locked}
        results: dict[str, TransitionResult] = {}
        by_target: dict[str, list[uuid.UUID]] = defaultdict(list)
        for t in todo:
            status = current.get(t.game_id)
            if status is None:
                results[t.message_id] = TransitionResult(Applied.MISSING)
            elif not is_valid_transition(status, t.target_status):
                results[t.message_id] = TransitionResult(Applied.NOT_ALLOWED, status)
            else:
                by_target[GameStatus(t.target_status).value].append(t.game_id)
        for target, game_ids in by_target.items():
            session.execute(
                update(GameSession)
                .where(GameSession.id.in_(game_ids))
                .values(status=target, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        changed = [g for ids in by_target.values() for g in ids]
        posted: dict[uuid.UUID, PostedGame] = {}
        if changed:
            query = (
                select(GameSession)
                .where(GameSession.id.in_(changed))
                .options(selectinload(GameSession.participants))
            )
            for game in session.scalars(query):
                posted[game.id] = PostedGame(
                    game_message_of(game),
                    game.channel_id,
                    game.message_id,
                    updated_at=game.updated_at,
                    post_error=game.post_error,
                )
        for t in todo:
            if t.message_id not in results:
                results[t.message_id] = TransitionResult(
                    Applied.CHANGED, current[t.game_id], posted[t.game_id]
                )
    return results


class AppliedTransitions:
    """Results of batch-applied transitions, each taken once by its event's handler."""

    def __init__(self, kept: int = KEPT) -> None:
        self._results: OrderedDict[str, TransitionResult] = OrderedDict()
        self._kept = kept

    def put(self, results: dict[str, TransitionResult]) -> None:
        """Keep `results` for their handlers (the oldest dropped beyond `kept`)."""
        self._results.update(results)
        while len(self._results) > self._kept:
            self._results.popitem(last=False)

    def take(self, message_id: str | None) -> TransitionResult | None:
        """The result for `message_id`, once; None if its transition was not batch-applied."""
        if message_id is None:
            return None
        return self._results.pop(message_id, None)
