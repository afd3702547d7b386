"""A game's check-in moments as outbox rows due later, replaced whenever its schedule is.

They need no table and no loop of their own: an `event_outbox` row with a future
`available_at` is published by the outbox instance of the generic daemon at that time,
with the same exactly-once guarantees (the row id is the message id) as every event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from game_scheduler.db.models import EventOutbox, GameSession
from game_scheduler.domain.checkin import plan_checkins
from game_scheduler.domain.status import GameStatus

# The partial index `ix_event_outbox_pending_checkins`'s predicate and expression written
# out as literals (only the game id is a parameter), so every plan, generic ones too, can
# prove the predicate and match the expression.
PENDING_CHECKINS_OF_GAME = (
    "NOT published AND event_type IN ('game.checkin_due', 'game.release_due')"
    " AND (payload->>'game_id') = :game_id"
)


def replan_checkins(session: Session, game: GameSession, now: datetime) -> None:
    """Drop the game's pending check-in moments and plan the ones its settings ask for now.

    A moved or cancelled game's old moments are gone before they fire; a moment already
    fired is never planned again for the same start (the bot's DM records would skip it).
    """
    session.execute(
        delete(EventOutbox).where(text(PENDING_CHECKINS_OF_GAME).bindparams(game_id=str(game.id)))
    )
    planned = plan_checkins(
        scheduled_at=game.scheduled_at,
        checkin_minutes=game.checkin_minutes,
        release_minutes=game.release_minutes,
        scheduled=game.status == GameStatus.SCHEDULED.value,
        now=now,
    )
    for moment in planned:
        session.add(
            EventOutbox(
                event_type=moment.stage.value,
                payload={
                    "game_id": str(game.id),
                    "scheduled_for": moment.scheduled_for.isoformat(),
                },
                available_at=moment.due_at,
            )
        )
