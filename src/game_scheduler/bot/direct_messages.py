"""Direct messages to a game's players, each delivered at most once per reminder.

Ordering against crashes (see docs/bot.md): a DM is sent first and its per-recipient
record (`dm:<kind>:<scope>:<user>` in `processed_messages`) committed right after. A crash
before the send leaves no record, so a redelivery sends it: no reminder is lost. A crash
between the send and the record is the only window for a repeat, and each send carries a
nonce derived from that record key with Discord's `enforce_nonce`, so Discord answers a
repeat within minutes with the first message instead of a second DM.

Players whose DMs are closed (403, code 50007) are remembered for the life of the process
and mentioned together in one message in the game's channel instead.

A DM channel is opened once per user (`POST /users/@me/channels`) and its id remembered
(up to `DM_CHANNELS_KEPT` users, most recent first), so a reminder costs one request per
player, not two. The requests go out at the urgency of the caller's context (a reminder
handler sends at `Urgency.REMINDER`, see `bot/request_scheduler.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import discord
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.formatters.game_message import closed_dms_notices
from game_scheduler.bot.metrics import BotMetrics
from game_scheduler.db.models import ProcessedMessage
from game_scheduler.messaging.dedup import record_message_once

logger = logging.getLogger(__name__)

DMS_CLOSED_CODE = 50007
DM_CONCURRENCY = 5  # DMs in flight at once; discord.py queues the rest per rate limit
DM_CHANNELS_KEPT = 100_000  # users whose DM channel id is remembered
UNKNOWN_CHANNEL_CODE = 10003


@dataclass(frozen=True)
class Recipient:
    """A player to DM and what to tell them."""

    user_id: int
    text: str
    view: discord.ui.View | None = None  # buttons sent with the DM (the check-in's)


def nonce_for(key: str) -> str:
    """A Discord nonce (at most 25 characters) that is the same for the same record key."""
    return hashlib.sha256(key.encode()).hexdigest()[:25]


def recorded_keys(sessions: sessionmaker[Session], keys: Sequence[str]) -> set[str]:
    """Which of `keys` are already recorded as done."""
    if not keys:
        return set()
    with sessions.begin() as session:
        query = select(ProcessedMessage.message_id).where(ProcessedMessage.message_id.in_(keys))
        return set(session.scalars(query))


def record_keys(sessions: sessionmaker[Session], keys: Sequence[str]) -> None:
    """Record `keys` as done, in one committed transaction."""
    with sessions.begin() as session:
        for key in keys:
            record_message_once(session, key)


class KeyRecorder:
    """Records DM keys as done, the keys of DMs sent close together in one transaction.

    A fan-out of thousands of DMs would otherwise be thousands of transactions, queued on
    the same threads as every handler's database work. `record` returns once its key is
    committed; the window for a repeat after a crash grows by a few milliseconds, which
    the DM's nonce covers.
    """

    def __init__(self, sessions: sessionmaker[Session], gather: float = 0.005) -> None:
        self._sessions = sessions
        self._gather = gather  # seconds a key waits for others to share its transaction
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, key: str) -> None:
        """Record one key; raises what the transaction raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="dm-records")
        await future

    async def _write(self) -> None:
        while self._pending:
            await asyncio.sleep(self._gather)
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(record_keys, self._sessions, [k for k, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


class DirectMessenger:
    """Sends a batch of DMs once each, falling back to a channel mention for closed DMs."""

    def __init__(
        self,
        client: discord.Client,
        sessions: sessionmaker[Session],
        *,
        metrics: BotMetrics | None = None,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._metrics = metrics or BotMetrics.unregistered()
        self.dms_closed: set[int] = set()  # users seen answering 50007, for this process
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, holders
        self._dm_channels: OrderedDict[int, int] = OrderedDict()  # user id -> DM channel id
        self._records = KeyRecorder(sessions)

    async def dm_channel(self, user_id: int) -> discord.abc.Messageable:
        """The DM channel with a user: opened on first use, then remembered."""
        known = self._dm_channels.get(user_id)
        if known is not None:
            self._dm_channels.move_to_end(user_id)
            return self._client.get_partial_messageable(known, type=discord.ChannelType.private)
        channel = await self._client.create_dm(discord.Object(id=user_id))
        self._dm_channels[user_id] = channel.id
        while len(self._dm_channels) > DM_CHANNELS_KEPT:
            self._dm_channels.popitem(last=False)
        return channel

    async def _send_to_user(
        self, user_id: int, text: str, nonce: str, view: discord.ui.View | None = None
    ) -> None:
        async def send(channel: discord.abc.Messageable) -> None:
            mentions = discord.AllowedMentions.none()
            if view is not None:
                await channel.send(text, nonce=nonce, allowed_mentions=mentions, view=view)
            else:
                await channel.send(text, nonce=nonce, allowed_mentions=mentions)

        try:
            await send(await self.dm_channel(user_id))
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_CHANNEL_CODE or user_id not in self._dm_channels:
                raise
            # The remembered channel is gone: open it anew, once.
            del self._dm_channels[user_id]
            await send(await self.dm_channel(user_id))

    async def deliver(
        self,
        *,
        kind: str,
        scope: str,
        recipients: Sequence[Recipient],
        channel_id: int | None,
        channel_text: str,
    ) -> None:
        """DM every recipient not yet served for (kind, scope); raise if any DM failed.

        Recipients whose DMs are closed are mentioned in `channel_id` instead (not at all
        when it is None).
        """
        # Two deliveries of one event handled side by side would both see "not recorded".
        name = f"{kind}:{scope}"
        lock, users = self._locks.get(name, (asyncio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                await self._deliver(kind, scope, recipients, channel_id, channel_text)
        finally:
            lock, users = self._locks[name]
            if users <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    async def _deliver(
        self,
        kind: str,
        scope: str,
        recipients: Sequence[Recipient],
        channel_id: int | None,
        channel_text: str,
    ) -> None:
        keys = {r.user_id: f"dm:{kind}:{scope}:{r.user_id}" for r in recipients}
        done = await asyncio.to_thread(recorded_keys, self._sessions, list(keys.values()))
        todo = [r for r in recipients if keys[r.user_id] not in done]
        closed: list[int] = []
        gate = asyncio.Semaphore(DM_CONCURRENCY)

        async def one(recipient: Recipient) -> None:
            if recipient.user_id in self.dms_closed:
                closed.append(recipient.user_id)
                return
            async with gate:
                sent = await self._send_dm(kind, recipient, keys[recipient.user_id])
            if sent:
                await self._records.record(keys[recipient.user_id])
            else:
                closed.append(recipient.user_id)

        results = await asyncio.gather(*(one(r) for r in todo), return_exceptions=True)
        if closed:
            closed.sort()
            if channel_id is not None:
                await self._notify_in_channel(kind, scope, channel_id, channel_text, closed)
            await asyncio.to_thread(record_keys, self._sessions, [keys[u] for u in closed])
        failures = [r for r in results if isinstance(r, BaseException)]
        logger.info(
            "direct messages delivered",
            extra={
                "kind": kind,
                "scope": scope,
                "recipients": len(recipients),
                "already_done": len(recipients) - len(todo),
                "sent": len(todo) - len(closed) - len(failures),
                "dms_closed": len(closed),
                "failed": len(failures),
            },
        )
        if failures:
            # The event is retried; everyone served so far is recorded and skipped then.
            raise failures[0]

    async def _send_dm(self, kind: str, recipient: Recipient, key: str) -> bool:
        """Send one DM; False when the user's DMs are closed."""
        try:
            await self._send_to_user(
                recipient.user_id, recipient.text, nonce_for(key), recipient.view
            )
        except discord.Forbidden as exc:
            if exc.code != DMS_CLOSED_CODE:
                self._metrics.dms_sent.labels(kind, "failed").inc()
                raise
            self.dms_closed.add(recipient.user_id)
            self._metrics.dms_sent.labels(kind, "dms_closed").inc()
            logger.info("DMs closed; will mention in channel", extra={"user_id": recipient.user_id})
            return False
        except Exception:
            self._metrics.dms_sent.labels(kind, "failed").inc()
            raise
        self._metrics.dms_sent.labels(kind, "sent").inc()
        return True

    async def _notify_in_channel(
        self, kind: str, scope: str, channel_id: int, text: str, user_ids: list[int]
    ) -> None:
        channel = self._client.get_partial_messageable(channel_id)
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(id=u) for u in user_ids]
        )
        for index, content in enumerate(closed_dms_notices(user_ids, text)):
            key = f"notice:{kind}:{scope}:{index}:{','.join(map(str, user_ids))}"
            await channel.send(content, nonce=nonce_for(key), allowed_mentions=mentions)
        self._metrics.dms_sent.labels(kind, "channel_mention").inc(len(user_ids))
