"""A game the bot cannot post or edit is recorded on the game and told to its host once.

Discord answers 403 with code 50001 (Missing Access) or 50013 (Missing Permissions) when
the bot may not see or write in a channel. Retrying the event would fail the same way
until someone changes the channel's permissions, so it is not retried: the refresh ends
normally (the event is acknowledged), the reason is stored in `game_sessions.post_error`
(the API shows it), and the host gets one DM. The next refresh (the game is edited, a
player joins, its status changes, or Discord reports a change of the server, its roles
or its channels) tries again and clears the error once the post works.
"""

from __future__ import annotations

import logging
import uuid

import discord
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger, Recipient
from game_scheduler.bot.formatters.game_message import (
    TITLE_MAX,
    GameMessage,
    safe_text,
    timestamp,
    truncate,
)
from game_scheduler.db.models import GameSession
from game_scheduler.domain.status import GameStatus

logger = logging.getLogger(__name__)

# Discord's JSON error codes for "this bot may not do that in this channel".
CANNOT_POST_CODES = {50001: "Missing Access", 50013: "Missing Permissions"}
NEEDED_PERMISSIONS = "View Channel, Send Messages and Embed Links"


def cannot_post(exc: discord.HTTPException) -> bool:
    """True for the 403s that mean the bot lacks access or permissions in the channel."""
    return isinstance(exc, discord.Forbidden) and exc.code in CANNOT_POST_CODES


def post_error_text(channel_id: int, code: int) -> str:
    """What the API's `post_error` says: the channel, Discord's reason and what is needed."""
    reason = CANNOT_POST_CODES.get(code, "Forbidden")
    return (
        f"the bot cannot post in channel {channel_id}: {reason} (Discord error {code});"
        f" it needs {NEEDED_PERMISSIONS} there. The post is retried when the game changes."
    )


def record_post_error(sessions: sessionmaker[Session], game_id: uuid.UUID, text: str) -> bool:
    """Store the game's post error; True when it is new (not the one already stored)."""
    with sessions.begin() as session:
        result = session.execute(
            update(GameSession)
            .where(GameSession.id == game_id, GameSession.post_error.is_distinct_from(text))
            .values(post_error=text)
            .returning(GameSession.id)
        )
        return result.first() is not None


def clear_post_error(sessions: sessionmaker[Session], game_id: uuid.UUID) -> None:
    """Forget the game's post error: the bot could post after all."""
    with sessions.begin() as session:
        session.execute(
            update(GameSession)
            .where(GameSession.id == game_id, GameSession.post_error.is_not(None))
            .values(post_error=None)
        )


def games_with_post_errors(sessions: sessionmaker[Session], guild_id: int) -> list[uuid.UUID]:
    """The server's games not yet over whose last post or edit was refused."""
    with sessions.begin() as session:
        query = select(GameSession.id).where(
            GameSession.guild_id == guild_id,
            GameSession.post_error.is_not(None),
            GameSession.status.in_([GameStatus.SCHEDULED.value, GameStatus.IN_PROGRESS.value]),
        )
        return list(session.scalars(query))


def host_dm_text(message: GameMessage, channel_id: int, code: int) -> str:
    """The one DM a host gets when their game cannot be posted."""
    title = truncate(safe_text(message.title, markdown=False), TITLE_MAX)
    reason = CANNOT_POST_CODES.get(code, "Forbidden")
    return (
        f"I could not post your game **{title}** ({timestamp(message.scheduled_at, 'F')})"
        f" in <#{channel_id}>: {reason}. Give me {NEEDED_PERMISSIONS} in that channel,"
        " then edit the game (any change will do) and I will post it."
    )


async def tell_host(
    messenger: DirectMessenger, message: GameMessage, channel_id: int, code: int
) -> None:
    """DM the host once per game; a failure is logged, never retried through the event."""
    text = host_dm_text(message, channel_id, code)
    try:
        await messenger.deliver(
            kind="post_error",
            scope=str(message.game_id),
            recipients=[Recipient(message.host_id, text)],
            # The channel is the one the bot cannot write in: no fallback notice there.
            channel_id=None,
            channel_text=text,
        )
    except discord.HTTPException as exc:
        logger.warning(
            "could not tell the host that their game cannot be posted",
            extra={"game_id": str(message.game_id), "error": repr(exc)},
        )
