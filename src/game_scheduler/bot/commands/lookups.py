"""The games a command shows or names: upcoming ones, a person's own, those they may change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from game_scheduler.bot.commands.people import Caller
from game_scheduler.db.models import GameParticipant, GameSession
from game_scheduler.domain.permissions import may_edit_game
from game_scheduler.domain.status import GameStatus

OPEN_STATUSES = (GameStatus.SCHEDULED.value, GameStatus.IN_PROGRESS.value)
CHOICES_MAX = 25  # Discord shows at most 25 autocomplete choices


def upcoming_games(session: Session, guild_id: int, limit: int) -> list[GameSession]:
    """The server's games that have not ended, soonest first."""
    query = (
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(GameSession.guild_id == guild_id, GameSession.status.in_(OPEN_STATUSES))
        .order_by(GameSession.scheduled_at, GameSession.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def games_of(session: Session, guild_id: int, user_id: int, limit: int) -> list[GameSession]:
    """The server's unended games the person hosts or joined, soonest first."""
    joined = select(GameParticipant.game_id).where(GameParticipant.user_id == user_id)
    query = (
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(
            GameSession.guild_id == guild_id,
            GameSession.status.in_(OPEN_STATUSES),
            or_(GameSession.host_id == user_id, GameSession.id.in_(joined)),
        )
        .order_by(GameSession.scheduled_at, GameSession.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def changeable_games(session: Session, caller: Caller, text: str) -> list[GameSession]:
    """Unended games of this server the person may change, whose title contains `text`."""
    query = select(GameSession).where(
        GameSession.guild_id == caller.guild_id, GameSession.status.in_(OPEN_STATUSES)
    )
    if not caller.rights.can_manage:
        query = query.where(GameSession.host_id == caller.user_id)
    needle = text.strip()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(GameSession.title.ilike(f"%{escaped}%", escape="\\"))
    query = query.order_by(GameSession.scheduled_at, GameSession.id).limit(CHOICES_MAX)
    return list(session.scalars(query))


def find_game(session: Session, caller: Caller, value: str) -> GameSession | None:
    """The game of this server an option names: its id (from the list) or a unique title.

    A game of another server is not found: the answer never tells that it exists.
    """
    try:
        game_id = uuid.UUID(value.strip())
    except ValueError:
        query = select(GameSession).where(
            GameSession.guild_id == caller.guild_id,
            GameSession.status.in_(OPEN_STATUSES),
            GameSession.title == value.strip(),
        )
        matches = list(session.scalars(query.limit(2)))
        return matches[0] if len(matches) == 1 else None
    game = session.get(GameSession, game_id)
    if game is None or game.guild_id != caller.guild_id:
        return None
    return game


def may_change(caller: Caller, game: GameSession) -> bool:
    """The rule book's answer for this person and game."""
    return may_edit_game(caller.user_id, caller.rights, game.host_id)


def starts_after(games: list[GameSession], moment: datetime) -> list[GameSession]:
    """Only the games that start after a moment."""
    return [g for g in games if g.scheduled_at > moment]
