"""Who may see and change a game or a series, asked of the rule book for the caller of a request.

A person who is not a member of a game's server is told the game does not exist (the same
404 as an unknown id), so no field of another server's game ever leaves the API. A member
who may see it but not change it gets 403 with the rule they hit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.errors import ApiError
from game_scheduler.api.identity import Caller
from game_scheduler.db.models import GameSeries, GameSession
from game_scheduler.domain.permissions import Rights, may_act_for, may_edit_game, may_edit_series
from game_scheduler.games.errors import GameError, GameNotFound, SeriesNotFound


@dataclass(frozen=True, slots=True)
class GameOwnership:
    """The two facts about a game that decide who may touch it; neither ever changes."""

    key: uuid.UUID  # the game's id
    guild_id: int
    host_id: int

    def not_found(self) -> GameError:
        """What a caller who may not see it is told: no such game."""
        return GameNotFound(self.key)


@dataclass(frozen=True, slots=True)
class SeriesOwnership(GameOwnership):
    """The same two facts about a series; `key` is the series' id."""

    def not_found(self) -> GameError:
        """What a caller who may not see it is told: no such series."""
        return SeriesNotFound(self.key)


OwnedT = TypeVar("OwnedT", bound=GameOwnership)


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def _load(
    sessions: sessionmaker[Session],
    model: type[GameSession] | type[GameSeries],
    owned: type[OwnedT],
    key: uuid.UUID,
) -> OwnedT:
    with sessions() as session:
        row = session.execute(
            select(model.guild_id, model.host_id).where(model.id == key)
        ).one_or_none()
    if row is None:
        raise owned(key, 0, 0).not_found()
    return owned(key, row.guild_id, row.host_id)


def ownership(sessions: sessionmaker[Session], game_id: uuid.UUID) -> GameOwnership:
    """The game's server and host; GameNotFound when there is no such game."""
    return _load(sessions, GameSession, GameOwnership, game_id)


def series_ownership(sessions: sessionmaker[Session], series_id: uuid.UUID) -> SeriesOwnership:
    """The series' server and host; SeriesNotFound when there is no such series."""
    return _load(sessions, GameSeries, SeriesOwnership, series_id)


def may_see(caller: Caller, owned: GameOwnership) -> Rights:
    """The caller's rights in the game's (or series') server; a non-member gets 404."""
    rights = caller.rights_in(owned.guild_id)
    if rights is None:
        raise owned.not_found()
    return rights


def check_may_create(caller: Caller, guild_id: int, host_id: int) -> None:
    """A game may be created by those who may host in its server, hosted by themself."""
    if caller.is_admin:
        return
    rights = caller.rights_in(guild_id)
    if rights is None:
        raise _forbidden(f"you are not a member of server {guild_id}, or the bot is not in it")
    if not rights.can_host:
        raise _forbidden(
            "only the server's owner, managers and members with a host role may create games"
        )
    if host_id != caller.user_id and not rights.can_manage:
        raise _forbidden("you may create games hosted by yourself only; set host_id to your id")


def check_may_edit(caller: Caller, owned: GameOwnership) -> None:
    """A game or series may be changed (cancelled, skipped in, ended) by its host and by
    the server's managers."""
    rights = may_see(caller, owned)
    if caller.is_admin:
        return
    assert caller.user_id is not None  # a person
    if isinstance(owned, SeriesOwnership):
        if not may_edit_series(caller.user_id, rights, owned.host_id):
            raise _forbidden(
                "only the series' host and the server's managers may change this series"
            )
    elif not may_edit_game(caller.user_id, rights, owned.host_id):
        raise _forbidden("only the game's host and the server's managers may change this game")


def check_may_act_for(caller: Caller, game: GameOwnership, user_id: int) -> None:
    """A person joins and leaves as themself; managers may add and remove others."""
    rights = may_see(caller, game)
    if caller.is_admin:
        return
    assert caller.user_id is not None  # a person
    if not may_act_for(caller.user_id, rights, user_id):
        raise _forbidden("you may join and leave as yourself only; use your own user_id")
