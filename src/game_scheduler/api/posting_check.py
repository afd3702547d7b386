"""Before a game is created or edited: can the bot post in its channel? Discord is asked.

A game whose channel the bot may not write in would be saved, then fail to post. Where
Discord can tell beforehand, the API (and the dashboard, which goes through the same
check) refuses with a 422 on `channel_id` that names the channel and what the bot lacks.
Asked with the bot's token: `GET /channels/{id}` (its server and permission overwrites;
403 when the bot may not see it), the server's roles (`GET /guilds/{id}`), the bot's own
member (`GET /guilds/{id}/members/{bot id}`), then Discord's permission arithmetic in
`domain/permissions.py`. The channel is read fresh every time; the server and member
answers come from the one-minute cache, and a refusal is always re-checked with fresh
ones, so a permission given a moment ago is never refused on stale data.

When Discord cannot be reached the game is not refused: the bot tries to post, and a
refusal then shows as the game's `post_error` (bot/post_errors.py).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.discord_directory import (
    ChannelFacts,
    ChannelRefused,
    DiscordDirectory,
    DiscordUnavailable,
)
from game_scheduler.db.models import GameSession
from game_scheduler.domain.permissions import (
    POSTING_PERMISSIONS,
    channel_permissions,
    missing_to_post,
    role_permissions,
)
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games.errors import GameNotFound

logger = logging.getLogger(__name__)

NEEDED = ", ".join(name for _, name in POSTING_PERMISSIONS[:-1]) + (
    f" and {POSTING_PERMISSIONS[-1][1]}"
)
MISSING_ACCESS = 403
UNKNOWN_CHANNEL = 404


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class PostingCheck:
    """Refuses a channel the bot cannot post in, as far as Discord can tell beforehand."""

    def __init__(self, directory: DiscordDirectory) -> None:
        self._directory = directory

    def check(self, channel_id: int, guild_id: int) -> None:
        """Raise InvalidField on `channel_id` (a 422) when the bot cannot post there; blocks.

        Also when the channel is in another server than `guild_id`: rights are checked in
        `guild_id`, so a game there must not land in a server where the host has none.
        """
        try:
            problem = self._problem(channel_id, guild_id, fresh=False)
            if problem is not None:
                problem = self._problem(channel_id, guild_id, fresh=True)
        except DiscordUnavailable:
            logger.info("could not ask Discord about channel %d; the post will tell", channel_id)
            return
        if problem is not None:
            raise InvalidField("channel_id", problem)

    def _problem(self, channel_id: int, guild_id: int, *, fresh: bool) -> str | None:
        channel = self._directory.channel(channel_id)
        if isinstance(channel, ChannelRefused):
            if channel.status == MISSING_ACCESS:
                return (
                    f"the bot cannot see channel {channel_id} (Discord: Missing Access);"
                    f" give it {NEEDED} there"
                )
            return f"is not a channel the bot can find ({channel_id}); pick one of the server's"
        if channel.guild_id is None:
            return f"channel {channel_id} is a direct message, not a server channel"
        if channel.guild_id != guild_id:
            return (
                f"channel #{channel.name} ({channel_id}) is in another server, not in"
                f" {guild_id}; pick one of this server's channels"
            )
        return self._missing_in(channel, channel.guild_id, fresh=fresh)

    def _missing_in(self, channel: ChannelFacts, guild_id: int, *, fresh: bool) -> str | None:
        bot_id = self._directory.bot_user_id()
        if fresh:
            self._directory.forget_guild(guild_id, bot_id)
        guild = self._directory.guild(guild_id)
        bot = self._directory.member(guild_id, bot_id)
        if guild is None or bot is None:
            return None  # the channel answered, so the bot is there: nothing to go on
        bits = role_permissions(bot, guild.role_permissions, everyone_role_id=guild_id)
        missing = missing_to_post(channel_permissions(bot, bits, channel.overwrites, guild_id))
        if not missing:
            return None
        return (
            f"the bot cannot post in #{channel.name} ({channel.channel_id}): it lacks"
            f" {_and(missing)} there; give it {NEEDED} in that channel"
        )


def where_game_posts(sessions: sessionmaker[Session], game_id: uuid.UUID) -> tuple[int, int]:
    """The game's (channel id, server id); GameNotFound when there is no such game."""
    with sessions() as session:
        row = session.execute(
            select(GameSession.channel_id, GameSession.guild_id).where(GameSession.id == game_id)
        ).one_or_none()
    if row is None:
        raise GameNotFound(game_id)
    return row.channel_id, row.guild_id


def get_posting_check(request: Request) -> PostingCheck:
    """The check `create_app` stored on the app."""
    check: PostingCheck = request.app.state.posting_check
    return check


PostingChecker = Annotated[PostingCheck, Depends(get_posting_check)]
