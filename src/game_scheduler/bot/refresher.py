"""Keeps each game's Discord message showing the game's latest state, with few edits.

Per game there is a dirty flag and at most one writer task. A request sets the flag and
starts the writer if none runs; the writer clears the flag, reads the game, and writes
one edit. Requests that arrive meanwhile set the flag again and are all served by the
next edit, so a burst of changes becomes at most two edits, and the last one shows the
latest state. The first request of a quiet game is written at once: no debounce delay.

An edit identical to the last one this process sent for the game, of the same version
of the game (`updated_at`), is not sent again: a redelivered or repeated event costs no
edit. A game without a message is posted (and its message_id stored); a message deleted in
Discord (404) is posted anew. Posts carry a nonce derived from the game, with Discord's
`enforce_nonce`, so a post repeated after a crash returns the first message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import discord
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger
from game_scheduler.bot.formatters.game_message import (
    GameMessage,
    build_game_embed,
    game_message_of,
)
from game_scheduler.bot.metrics import BotMetrics
from game_scheduler.bot.pacing import ChannelPacer
from game_scheduler.bot.post_errors import (
    cannot_post,
    clear_post_error,
    post_error_text,
    record_post_error,
    tell_host,
)
from game_scheduler.bot.request_scheduler import Urgency, request_urgency
from game_scheduler.bot.views.game_view import build_game_view
from game_scheduler.db.models import GameSession
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.games.discord_ids import swap_discord_id
from game_scheduler.games.errors import GameNotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostedGame:
    """What a refresh needs from the database: the message content and where it lives."""

    message: GameMessage
    channel_id: int
    message_id: int | None
    updated_at: datetime | None = None  # the game's version; None: never skip the write
    post_error: str | None = None  # why the last post or edit failed, if it did


def load_posted_game(sessions: sessionmaker[Session], game_id: uuid.UUID) -> PostedGame | None:
    """Read a game with its participants; None when it no longer exists."""
    with sessions.begin() as session:
        try:
            game = service.get_game(session, game_id)
        except GameNotFound:
            return None
        return PostedGame(
            game_message_of(game),
            game.channel_id,
            game.message_id,
            updated_at=game.updated_at,
            post_error=game.post_error,
        )


def post_nonce(game_id: uuid.UUID, replaces: int | None) -> str:
    """A nonce (at most 25 characters) unique to this game's post or re-post."""
    digest = hashlib.sha256(f"{game_id}:{replaces}".encode()).hexdigest()
    return digest[:25]


LAST_SENT_LIMIT = 10_000  # games whose last write is remembered, most recent first
# A game starting later than this is "far in the future": its refreshes go last.
SOON = timedelta(hours=1)


def write_urgency(posted: PostedGame, requested: Urgency | None, now: datetime) -> Urgency:
    """How urgent a write is: as requested (a status change), a first post, or by start."""
    if requested is not None:
        return requested
    if posted.message_id is None:
        return Urgency.POST
    if posted.message.status is GameStatus.SCHEDULED and posted.message.scheduled_at - now > SOON:
        return Urgency.BACKGROUND
    return Urgency.REFRESH


def _fingerprint(
    posted: PostedGame, message_id: int, embed: discord.Embed, view: discord.ui.View
) -> str | None:
    """What a write put on Discord, for one version of the game; None if unversioned."""
    if posted.updated_at is None:
        return None
    shown = [message_id, posted.updated_at.isoformat(), embed.to_dict(), view.to_components()]
    return json.dumps(shown, sort_keys=True, default=str)


@dataclass
class _Slot:
    dirty: bool = False
    task: asyncio.Task[None] | None = None
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    requested_at: float | None = None  # monotonic seconds of the oldest unserved request
    known: PostedGame | None = None  # state the requester just committed, saves one read
    urgency: Urgency | None = None  # the most urgent of the requests served by the next write


class MessageRefresher:
    """Coalesces refresh requests per game into single, paced edits of its message."""

    def __init__(
        self,
        client: discord.Client,
        sessions: sessionmaker[Session],
        *,
        pacer: ChannelPacer | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        public_url: str | None = None,  # where "Add to calendar" links point; None: no links
        metrics: BotMetrics | None = None,
        messenger: DirectMessenger | None = None,  # tells hosts their game cannot be posted
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._now = now
        self._client = client
        self._public_url = public_url
        self._sessions = sessions
        self._metrics = metrics or BotMetrics.unregistered()
        self._messenger = messenger
        self._pacer = pacer or ChannelPacer(metrics=self._metrics)
        self._monotonic = monotonic
        self._slots: dict[uuid.UUID, _Slot] = {}
        self._last_sent: OrderedDict[uuid.UUID, str] = OrderedDict()
        # (message id, what it shows) of each game as last written, for `shows`.
        self._shown: dict[uuid.UUID, tuple[int, GameMessage]] = {}

    def shows(self, game_id: uuid.UUID, message_id: int | None, message: GameMessage) -> bool:
        """True when the game's message shows `message` already, and no write is due.

        The consumer's fast path acks a refresh of such a game without any Discord call.
        """
        return (
            message_id is not None
            and game_id not in self._slots
            and self._shown.get(game_id) == (message_id, message)
        )

    def rereads_soon(self, game_id: uuid.UUID) -> bool:
        """True when a write of the game that reads it afresh is due and someone awaits it.

        A change committed before now is then shown by that write, and the event that
        awaits it stays unacknowledged until it is: the fast path may settle other
        refreshes of the game at once.
        """
        slot = self._slots.get(game_id)
        return slot is not None and slot.dirty and slot.known is None and bool(slot.waiters)

    def mark_dirty(self, game_id: uuid.UUID) -> None:
        """Ask for a refresh without waiting for it (a slash command's change, say)."""
        self._mark(game_id, None, None)

    def _mark(self, game_id: uuid.UUID, known: PostedGame | None, urgency: Urgency | None) -> _Slot:
        slot = self._slots.get(game_id)
        # A state read by the requester may be written as is only when no write is under
        # way: otherwise a newer state may already be on its way, and it must be re-read.
        if slot is None:
            slot = self._slots[game_id] = _Slot(known=known)
        else:
            slot.known = None
        slot.dirty = True
        if urgency is not None and (slot.urgency is None or urgency < slot.urgency):
            slot.urgency = urgency
        if slot.requested_at is None:
            slot.requested_at = self._monotonic()
        if slot.task is None:
            slot.task = asyncio.create_task(self._write(game_id, slot), name=f"refresh-{game_id}")
        return slot

    async def refresh(
        self,
        game_id: uuid.UUID,
        known: PostedGame | None = None,
        urgency: Urgency | None = None,
    ) -> None:
        """Refresh and return once an edit showing the game as of this call is written.

        `known` is the game as the caller just committed it; it spares a database read.
        `urgency` ranks the write in the request scheduler; None: by what the write is (a
        first post, a game starting soon, one far in the future).
        """
        waiter = asyncio.get_running_loop().create_future()
        self._mark(game_id, known, urgency).waiters.append(waiter)
        await waiter

    async def wait_idle(self) -> None:
        """Return once no refresh is pending or running (for shutdown and tests)."""
        while tasks := [s.task for s in self._slots.values() if s.task is not None]:
            await asyncio.wait(tasks)

    def forget_idle_channels(self) -> None:
        """Drop pacing state of channels that have gone quiet."""
        self._pacer.forget_idle()

    async def _write(self, game_id: uuid.UUID, slot: _Slot) -> None:
        try:
            while slot.dirty:
                slot.dirty = False
                waiters, slot.waiters = slot.waiters, []
                requested_at, slot.requested_at = slot.requested_at, None
                known, slot.known = slot.known, None
                urgency, slot.urgency = slot.urgency, None
                try:
                    await self._refresh_once(game_id, known, urgency)
                except Exception as exc:
                    logger.exception("game message refresh failed", extra={"game_id": str(game_id)})
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                if requested_at is not None:
                    self._metrics.refresh_seconds.observe(self._monotonic() - requested_at)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            slot.task = None
            if not slot.dirty:
                self._slots.pop(game_id, None)

    async def _refresh_once(
        self, game_id: uuid.UUID, known: PostedGame | None, urgency: Urgency | None
    ) -> None:
        posted = known or await asyncio.to_thread(load_posted_game, self._sessions, game_id)
        if posted is None:
            logger.warning("refresh skipped: game not found", extra={"game_id": str(game_id)})
            return
        try:
            with request_urgency(write_urgency(posted, urgency, self._now())):
                await self._write_message(game_id, posted)
        except discord.Forbidden as exc:
            if not cannot_post(exc):
                raise
            await self._cannot_post(posted, exc.code)
            return
        if posted.post_error is not None:
            await asyncio.to_thread(clear_post_error, self._sessions, game_id)
            logger.info(
                "game message posted after an earlier failure", extra={"game_id": str(game_id)}
            )

    async def _cannot_post(self, posted: PostedGame, code: int) -> None:
        """Record why the game cannot be posted and tell its host once; no retry."""
        game_id = posted.message.game_id
        text = post_error_text(posted.channel_id, code)
        new = await asyncio.to_thread(record_post_error, self._sessions, game_id, text)
        self._metrics.message_writes.labels("forbidden").inc()
        logger.warning(
            "the bot cannot post the game in its channel",
            extra={"game_id": str(game_id), "channel_id": posted.channel_id, "code": code},
        )
        if new and self._messenger is not None:
            await tell_host(self._messenger, posted.message, posted.channel_id, code)

    async def _write_message(self, game_id: uuid.UUID, posted: PostedGame) -> None:
        embed = build_game_embed(posted.message, public_url=self._public_url)
        view = build_game_view(
            game_id, open_for_joining=posted.message.status is GameStatus.SCHEDULED
        )
        channel = self._client.get_partial_messageable(posted.channel_id)
        if posted.message_id is not None:
            shown = _fingerprint(posted, posted.message_id, embed, view)
            if shown is not None and self._last_sent.get(game_id) == shown:
                logger.debug("refresh skipped: unchanged", extra={"game_id": str(game_id)})
                return
            await self._pacer.acquire(posted.channel_id)
            try:
                await channel.get_partial_message(posted.message_id).edit(embed=embed, view=view)
            except discord.NotFound:
                logger.warning(
                    "game message was deleted in Discord; posting it anew",
                    extra={"game_id": str(game_id), "message_id": posted.message_id},
                )
                self._last_sent.pop(game_id, None)
                self._shown.pop(game_id, None)
                await self._pacer.acquire(posted.channel_id)
                await self._post(channel, posted, embed, view, kind="repost")
                return
            self._metrics.message_writes.labels("edit").inc()
            self._remember(game_id, shown, posted, posted.message_id)
            return
        await self._pacer.acquire(posted.channel_id)
        await self._post(channel, posted, embed, view, kind="post")

    def _remember(
        self, game_id: uuid.UUID, shown: str | None, posted: PostedGame, message_id: int
    ) -> None:
        if shown is None or posted.updated_at is None:
            self._last_sent.pop(game_id, None)
            self._shown.pop(game_id, None)
            return
        self._last_sent[game_id] = shown
        self._shown[game_id] = (message_id, posted.message)
        self._last_sent.move_to_end(game_id)
        while len(self._last_sent) > LAST_SENT_LIMIT:
            forgotten, _ = self._last_sent.popitem(last=False)
            self._shown.pop(forgotten, None)

    async def _post(
        self,
        channel: discord.PartialMessageable,
        posted: PostedGame,
        embed: discord.Embed,
        view: discord.ui.View,
        *,
        kind: str,
    ) -> None:
        game_id = posted.message.game_id
        sent = await channel.send(
            embed=embed,
            view=view,
            nonce=post_nonce(game_id, posted.message_id),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        stored = await asyncio.to_thread(
            swap_discord_id,
            self._sessions,
            game_id,
            GameSession.message_id,
            posted.message_id,
            sent.id,
        )
        shown = _fingerprint(posted, sent.id, embed, view) if stored else None
        self._remember(game_id, shown, posted, sent.id)
        self._metrics.message_writes.labels(kind).inc()
        logger.info(
            "game message posted",
            extra={"game_id": str(game_id), "message_id": sent.id, "kind": kind, "stored": stored},
        )
