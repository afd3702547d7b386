"""The games a command shows or names: upcoming ones, a person's own, those they may change."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from game_scheduler.bot.commands.people import Caller
from game_scheduler.db.models import GameSession
from game_scheduler.domain.permissions import may_edit_game
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service

OPEN_STATUSES = (GameStatus.SCHEDULED.value, GameStatus.IN_PROGRESS.value)
CHOICES_MAX = 25  # Discord shows at most 25 autocomplete choices
SEARCH_LIMIT = 200  # games looked at to find the 25 a person may change


def upcoming_games(session: Session, guild_id: int, limit: int) -> list[GameSession]:
    """The server's games that have not ended, soonest first."""
    return service.games_of_guild(session, guild_id, upcoming=True, limit=limit)


def games_of(session: Session, guild_id: int, user_id: int, limit: int) -> list[GameSession]:
    """The server's unended games the person hosts or joined, soonest first."""
    return service.games_of_user(session, user_id, [guild_id], limit=limit)


def changeable_games(session: Session, caller: Caller, text: str) -> list[GameSession]:
    """Unended games of this server the person may change, whose title contains `text`."""
    found = service.games_of_guild(
        session, caller.guild_id, upcoming=True, search=text.strip() or None, limit=SEARCH_LIMIT
    )
    return [g for g in found if may_change(caller, g)][:CHOICES_MAX]


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
