"""A game's check-in moments as outbox rows due later, replaced whenever its schedule is.

They need no table and no loop of their own: an `event_outbox` row with a future
`available_at` is published by the outbox instance of the generic daemon at that time,
with the same exactly-once guarantees (the row id is the message id) as every event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from game_scheduler.db.models import EventOutbox, GameSession
from game_scheduler.domain.checkin import CheckinStage, plan_checkins
from game_scheduler.domain.status import GameStatus

CHECKIN_EVENT_TYPES = tuple(stage.value for stage in CheckinStage)


def replan_checkins(session: Session, game: GameSession, now: datetime) -> None:
    """Drop the game's pending check-in moments and plan the ones its settings ask for now.

    A moved or cancelled game's old moments are gone before they fire; a moment already
    fired is never planned again for the same start (the bot's DM records would skip it).
    """
    session.execute(
        delete(EventOutbox).where(
            ~EventOutbox.published,
            EventOutbox.event_type.in_(CHECKIN_EVENT_TYPES),
            EventOutbox.payload["game_id"].astext == str(game.id),
        )
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
