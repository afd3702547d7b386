"""The DMs that tell people what changed in a game, and the check-in moments.

Every DM goes through `DirectMessenger`, under a key per (kind, change, person), so a
redelivered event sends nothing twice and a crash in the middle loses nobody's DM
(docs/bot.md, "Once per message"). The change is the event's message id (one roster
change, one `game.updated`), or the game's start time for a check-in.

Kinds (docs/bot.md lists each text and when it is sent): `promoted`, `joined`, `removed`,
`released`, `moved`, `checkin` to players; `host_left`, `host_released`, `host_short` to the
host.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger, Recipient
from game_scheduler.bot.formatters import news_text
from game_scheduler.bot.formatters.game_message import GameMessage, game_message_of
from game_scheduler.bot.views.checkin_view import build_checkin_view
from game_scheduler.clock import Clock
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import checkins, service
from game_scheduler.games.errors import GameNotFound
from game_scheduler.messaging.dedup import record_message_once
from game_scheduler.messaging.schemas import (
    GameCheckinDueEvent,
    GameReleaseDueEvent,
    GameUpdatedEvent,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GameNow:
    """A game as the DMs about it need it, read after the change."""

    message: GameMessage
    guild_id: int
    channel_id: int
    link: str | None
    confirmed: tuple[int, ...]
    waitlist: tuple[int, ...]
    quiet: frozenset[int]  # players who turned reminders off
    checkin_minutes: int | None
    release_minutes: int | None
    min_players: int | None

    @property
    def host_id(self) -> int:
        """The host."""
        return self.message.host_id

    @property
    def is_open(self) -> bool:
        """Still to be played, or being played."""
        return self.message.status in (GameStatus.SCHEDULED, GameStatus.IN_PROGRESS)


def message_link(guild_id: int, channel_id: int, message_id: int | None) -> str | None:
    """The link to a game's message in Discord, None before it is posted."""
    if message_id is None:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def load_game_now(sessions: sessionmaker[Session], game_id: uuid.UUID) -> GameNow | None:
    """The game as committed now; None when it does not exist."""
    with sessions.begin() as session:
        try:
            game = service.get_game(session, game_id)
        except GameNotFound:
            return None
        roster = service.roster_of(game)
        confirmed = tuple(p.user_id for p in roster.confirmed if p.user_id is not None)
        waitlist = tuple(p.user_id for p in roster.waitlist if p.user_id is not None)
        return GameNow(
            message=game_message_of(game),
            guild_id=game.guild_id,
            channel_id=game.channel_id,
            link=message_link(game.guild_id, game.channel_id, game.message_id),
            confirmed=confirmed,
            waitlist=waitlist,
            quiet=frozenset(checkins.quiet_users(session, confirmed + waitlist)),
            checkin_minutes=game.checkin_minutes,
            release_minutes=game.release_minutes,
            min_players=game.min_players,
        )


class GameNews:
    """Tells each person once what a change meant for them; runs the check-in moments."""

    def __init__(
        self, sessions: sessionmaker[Session], messenger: DirectMessenger, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._messenger = messenger
        self._clock = clock

    async def _send(
        self,
        kind: str,
        scope: str,
        recipients: Sequence[Recipient],
        game: GameNow,
        *,
        channel_text: str | None,
    ) -> None:
        """Deliver; closed DMs get the channel mention only when `channel_text` is given."""
        if not recipients:
            return
        await self._messenger.deliver(
            kind=kind,
            scope=scope,
            recipients=recipients,
            channel_id=game.channel_id if channel_text is not None else None,
            channel_text=channel_text or "",
        )

    async def after_update(self, payload: GameUpdatedEvent, message_id: str | None) -> None:
        """DM everyone a roster change or a move concerns (after the message shows it)."""
        news = (
            payload.promoted,
            payload.joined,
            payload.left_full,
            payload.removed,
            payload.released,
            payload.previous_scheduled_at,
        )
        if not any(news):
            return
        game = await asyncio.to_thread(load_game_now, self._sessions, payload.game_id)
        if game is None or not game.is_open:
            return
        scope = message_id or f"{payload.game_id}:{game.message.scheduled_at.timestamp()}"
        message, link = game.message, game.link
        # Told only if it still holds when the DM goes: a seat won and lost again is no news.
        promoted = [u for u in payload.promoted if u in game.confirmed]
        text = news_text.promoted_text(message, link)
        await self._send(
            "promoted",
            scope,
            [Recipient(u, text) for u in promoted],
            game,
            channel_text=news_text.promoted_text(message, None),
        )
        if payload.joined is not None and payload.joined not in game.quiet:
            joined = payload.joined
            if joined in game.confirmed or joined in game.waitlist:
                place = game.waitlist.index(joined) + 1 if joined in game.waitlist else None
                text = news_text.joined_text(message, place, link)
                await self._send(
                    "joined", scope, [Recipient(joined, text)], game, channel_text=None
                )
        removed = [u for u in payload.removed if u not in game.confirmed + game.waitlist]
        text = news_text.removed_text(message, link)
        await self._send(
            "removed", scope, [Recipient(u, text) for u in removed], game, channel_text=None
        )
        released = [u for u in payload.released if u not in game.confirmed]
        text = news_text.released_text(message, link)
        await self._send(
            "released",
            scope,
            [Recipient(u, text) for u in released],
            game,
            channel_text=news_text.released_text(message, None),
        )
        if payload.previous_scheduled_at is not None:
            text = news_text.moved_text(message, payload.previous_scheduled_at, link)
            players = [u for u in game.confirmed + game.waitlist if u != game.host_id]
            await self._send(
                "moved",
                scope,
                [Recipient(u, text) for u in players],
                game,
                channel_text=news_text.moved_text(message, payload.previous_scheduled_at, None),
            )
        await self._tell_host(payload, scope, game, promoted)

    async def _tell_host(
        self, payload: GameUpdatedEvent, scope: str, game: GameNow, promoted: Sequence[int]
    ) -> None:
        host = game.host_id
        if payload.left_full and payload.left is not None and payload.left != host:
            text = news_text.host_left_full_text(game.message, payload.left, promoted, game.link)
            await self._send("host_left", scope, [Recipient(host, text)], game, channel_text=None)
        if payload.released:
            text = news_text.host_released_text(game.message, payload.released, promoted, game.link)
            await self._send(
                "host_released", scope, [Recipient(host, text)], game, channel_text=None
            )

    async def checkin_due(self, payload: GameCheckinDueEvent) -> bool:
        """Ask the confirmed players whether they are coming; False when it no longer applies.

        Skipped for a game that is gone, no longer scheduled, started, moved since (its new
        time has its own check-in) or whose host turned check-in off.
        """
        game = await asyncio.to_thread(load_game_now, self._sessions, payload.game_id)
        if game is None or game.checkin_minutes is None:
            return False
        if not self._still_for(game, payload.scheduled_for):
            return False
        message = game.message
        release_at = (
            message.scheduled_at - timedelta(minutes=game.release_minutes)
            if game.release_minutes is not None
            else None
        )
        scope = f"{payload.game_id}:{int(message.scheduled_at.timestamp())}"
        players = [u for u in game.confirmed if u != game.host_id and u not in game.quiet]
        text = news_text.checkin_text(message, release_at, game.link)
        recipients = [
            Recipient(u, text, view=build_checkin_view(payload.game_id, message.scheduled_at))
            for u in players
        ]
        await self._send(
            "checkin",
            scope,
            recipients,
            game,
            channel_text=news_text.checkin_channel_text(message),
        )
        # Only those the buttons reached can be released for not answering.
        asked = [u for u in players if u not in self._messenger.dms_closed]
        await asyncio.to_thread(self._record_asked, payload.game_id, message.scheduled_at, asked)
        if game.min_players is not None and len(game.confirmed) < game.min_players:
            text = news_text.host_short_text(
                message, len(game.confirmed), game.min_players, game.link
            )
            await self._send(
                "host_short", scope, [Recipient(game.host_id, text)], game, channel_text=None
            )
        return True

    def _still_for(self, game: GameNow, scheduled_for: datetime) -> bool:
        """Still scheduled, not started, and planned for the start the moment was for."""
        if game.message.status is not GameStatus.SCHEDULED:
            return False
        start = game.message.scheduled_at
        return int(start.timestamp()) == int(scheduled_for.timestamp()) and (
            start > self._clock.now()
        )

    def _record_asked(
        self, game_id: uuid.UUID, scheduled_for: datetime, user_ids: Sequence[int]
    ) -> None:
        with self._sessions.begin() as session:
            checkins.record_asked(session, game_id, scheduled_for, user_ids)

    def release_due(self, payload: GameReleaseDueEvent, message_id: str | None) -> int | None:
        """Release non-answerers in one transaction with the dedup record; None if a duplicate.

        The release's own `game.updated` then tells the released, the promoted and the host.
        """
        with self._sessions.begin() as session:
            if message_id is not None and not record_message_once(session, message_id):
                return None
            released = checkins.release_unanswered(
                session, payload.game_id, payload.scheduled_for, now=self._clock.now()
            )
        logger.info(
            "check-in release",
            extra={"game_id": str(payload.game_id), "released": len(released)},
        )
        return len(released)
