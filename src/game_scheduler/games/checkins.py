"""Check-in answers and releases: the roster changes a check-in makes, through the service.

`answer_checkin` is a press of "I'm coming" / "Can't make it"; `release_unanswered` is the
release moment. Both change the roster only through `games.service`, so the promotion they
cause is announced (and DMed) like any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.db.models import GameCheckin, GameSession, UserSettings
from game_scheduler.domain.checkin import Answer, players_to_release
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.games.errors import GameNotFound


class AnswerOutcome(Enum):
    """What a check-in press did."""

    COMING = "coming"  # recorded: the player is coming
    ALREADY_COMING = "already_coming"
    SEAT_FREED = "seat_freed"  # the player left; the first waiting one is promoted
    ALREADY_LEFT = "already_left"  # answered "Can't make it" before
    NOT_PLAYING = "not_playing"  # not in the game, or waiting for a seat
    MOVED = "moved"  # the game moved since this check-in was asked
    CLOSED = "closed"  # the game started, ended or was cancelled
    MISSING = "missing"


@dataclass(frozen=True)
class AnswerResult:
    """A press's outcome and the game's current start (for the answer's wording)."""

    outcome: AnswerOutcome
    scheduled_at: datetime | None = None


def _checkin(
    session: Session, game_id: uuid.UUID, user_id: int, scheduled_for: datetime
) -> GameCheckin | None:
    return session.get(GameCheckin, (game_id, user_id, scheduled_for))


def _record_answer(
    session: Session,
    game_id: uuid.UUID,
    user_id: int,
    scheduled_for: datetime,
    answer: Answer,
    now: datetime,
) -> None:
    values = {"answer": answer.value, "answered_at": now}
    session.execute(
        insert(GameCheckin)
        .values(game_id=game_id, user_id=user_id, scheduled_for=scheduled_for, **values)
        .on_conflict_do_update(
            index_elements=[GameCheckin.game_id, GameCheckin.user_id, GameCheckin.scheduled_for],
            set_=values,
        )
    )


def answer_checkin(
    session: Session,
    game_id: uuid.UUID,
    user_id: int,
    scheduled_for: datetime,
    *,
    coming: bool,
    now: datetime,
) -> AnswerResult:
    """Record a player's answer; "Can't make it" frees their seat at once."""
    try:
        game = service.get_game(session, game_id, for_update=True)
    except GameNotFound:
        return AnswerResult(AnswerOutcome.MISSING)
    if game.status != GameStatus.SCHEDULED.value or game.scheduled_at <= now:
        return AnswerResult(AnswerOutcome.CLOSED, game.scheduled_at)
    # A button carries whole seconds: the start it asked about, to the second.
    if int(game.scheduled_at.timestamp()) != int(scheduled_for.timestamp()):
        return AnswerResult(AnswerOutcome.MOVED, game.scheduled_at)
    scheduled_for = game.scheduled_at
    earlier = _checkin(session, game_id, user_id, scheduled_for)
    seated = {p.user_id for p in service.roster_of(game).confirmed}
    if user_id not in seated:
        left = earlier is not None and earlier.answer == Answer.NOT_COMING.value
        return AnswerResult(
            AnswerOutcome.ALREADY_LEFT if left else AnswerOutcome.NOT_PLAYING, game.scheduled_at
        )
    if coming:
        if earlier is not None and earlier.answer == Answer.COMING.value:
            return AnswerResult(AnswerOutcome.ALREADY_COMING, game.scheduled_at)
        _record_answer(session, game_id, user_id, scheduled_for, Answer.COMING, now)
        return AnswerResult(AnswerOutcome.COMING, game.scheduled_at)
    _record_answer(session, game_id, user_id, scheduled_for, Answer.NOT_COMING, now)
    service.leave_game(session, game_id, user_id, now=now)
    return AnswerResult(AnswerOutcome.SEAT_FREED, game.scheduled_at)


def record_asked(
    session: Session, game_id: uuid.UUID, scheduled_for: datetime, user_ids: Sequence[int]
) -> None:
    """Note that these players were asked to check in (idempotent; answers are kept)."""
    if not user_ids:
        return
    session.execute(
        insert(GameCheckin)
        .values(
            [{"game_id": game_id, "user_id": u, "scheduled_for": scheduled_for} for u in user_ids]
        )
        .on_conflict_do_nothing()
    )


def quiet_users(session: Session, user_ids: Sequence[int]) -> set[int]:
    """Those of `user_ids` who turned reminders off (`/reminders off`, the dashboard)."""
    if not user_ids:
        return set()
    query = select(UserSettings.user_id).where(
        UserSettings.user_id.in_(list(user_ids)), ~UserSettings.dm_reminders
    )
    return set(session.scalars(query))


def checkin_players(game: GameSession) -> list[int]:
    """Who is asked to check in: the confirmed Discord users, except the host."""
    return [
        p.user_id
        for p in service.roster_of(game).confirmed
        if p.user_id is not None and p.user_id != game.host_id
    ]


def release_unanswered(
    session: Session, game_id: uuid.UUID, scheduled_for: datetime, *, now: datetime
) -> tuple[int, ...]:
    """Give the seats of asked players who did not answer to the waitlist; who was released.

    Only while the game is still planned for `scheduled_for` (a moved game's old check-in
    no longer counts); only as many as are waiting, the last to have joined first.
    """
    try:
        game = service.get_game(session, game_id, for_update=True)
    except GameNotFound:
        return ()
    if game.status != GameStatus.SCHEDULED.value or game.scheduled_at != scheduled_for:
        return ()
    roster = service.roster_of(game)
    asked = session.scalars(
        select(GameCheckin.user_id).where(
            GameCheckin.game_id == game_id,
            GameCheckin.scheduled_for == scheduled_for,
            GameCheckin.answer.is_(None),
        )
    )
    unanswered = set(asked)
    in_order = [p.user_id for p in roster.confirmed if p.user_id in unanswered]
    candidates = [u for u in in_order if u is not None and u != game.host_id]
    chosen = set(players_to_release(candidates, len(roster.waitlist)))
    released = tuple(u for u in candidates if u in chosen)  # in join order
    if released:
        service.release_players(session, game_id, released, now=now)
    return released
