"""Every game mirrored as a Discord guild scheduled event, the server's Events tab.

The event handlers call `ScheduledEventMirror.request(game_id)` after each change they
handled (created, updated, status changed, cancelled). Requests coalesce per game as the
message refresher's do: one writer per game re-reads the game and makes the event match
it, so a game moved twice quickly ends as one event at the last time. The mirror never
holds up the message or the reminders: it runs in its own tasks and swallows its errors.

What the event shows: the title, "where" as the external location, the start and the
end, and a description ending with the link to the game's message (where Join is).
It follows the game's status: SCHEDULED edits it, IN_PROGRESS makes it active,
COMPLETED completes it, CANCELLED cancels it (or deletes it once it was active, since
Discord cancels only scheduled events).

A server that turned mirroring off (`guild_settings.scheduled_events_enabled`) is left
alone. A 403 (Missing Permissions, 50013, or Missing Access) is logged once, stored in
`guild_settings.scheduled_events_error` for the settings page, and that server is not
asked again for `RETRY_AFTER`; the next success clears the error. Discord keeps at most
100 events per server that have not ended (30038): the games past that have none, with a
warning per server at most every `RETRY_AFTER`, until a later change of the game finds room.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.pacing import ChannelPacer
from game_scheduler.bot.request_scheduler import RequestScheduler, Urgency, request_urgency
from game_scheduler.calendar.links import discord_message_url, game_ics_url
from game_scheduler.clock import Clock
from game_scheduler.db.models import GameSession, GuildSettings
from game_scheduler.domain.schedule_plan import DEFAULT_DURATION_MINUTES
from game_scheduler.domain.status import GameStatus
from game_scheduler.games.discord_ids import swap_discord_id

logger = logging.getLogger(__name__)

EVENT_ID = GameSession.discord_event_id

NAME_MAX = 100
DESCRIPTION_MAX = 1000
LOCATION_MAX = 100
DEFAULT_LOCATION = "Discord"
GUILD_ONLY = 2
EXTERNAL = 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
UNKNOWN_EVENT = 10070
TOO_MANY_EVENTS = 30038  # the server has 100 events that have not ended
EVENT_FINISHED = 180000
RETRY_AFTER = timedelta(hours=6)  # before a server that refused us is asked again
WRITTEN_MEMORY = 10_000  # games whose last written event the mirror remembers


@dataclass(frozen=True)
class MirrorInput:
    """A game as its event needs it, and the server's mirroring settings."""

    game_id: uuid.UUID
    guild_id: int
    status: GameStatus
    event_id: int | None
    payload: dict[str, Any]  # what the event should show (no status)
    enabled: bool
    refused_at: datetime | None  # when the server last refused us, if it did


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_payload(game: GameSession, public_url: str) -> dict[str, Any]:
    """The fields of the game's scheduled event, within Discord's limits."""
    link = discord_message_url(game.guild_id, game.channel_id, game.message_id) or game_ics_url(
        public_url, game.id
    )
    tail = f"Sign up: {link}"
    body = (game.description or "").strip()
    room = DESCRIPTION_MAX - len(tail) - 2
    description = f"{_cut(body, room)}\n\n{tail}" if body and room > 1 else tail
    start = game.scheduled_at
    end = start + timedelta(minutes=game.expected_duration_minutes or DEFAULT_DURATION_MINUTES)
    return {
        "name": _cut(game.title, NAME_MAX),
        "description": description,
        "privacy_level": GUILD_ONLY,
        "entity_type": EXTERNAL,
        "entity_metadata": {"location": _cut(game.where or DEFAULT_LOCATION, LOCATION_MAX)},
        "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": end.isoformat(),
    }


def load_mirror_input(
    sessions: sessionmaker[Session], game_id: uuid.UUID, public_url: str
) -> MirrorInput | None:
    """Read the game and its server's settings; None when the game no longer exists."""
    with sessions() as session:
        game = session.get(GameSession, game_id)
        if game is None:
            return None
        settings = session.scalars(
            select(GuildSettings).where(GuildSettings.guild_id == game.guild_id)
        ).one_or_none()
        return MirrorInput(
            game_id=game.id,
            guild_id=game.guild_id,
            status=GameStatus(game.status),
            event_id=game.discord_event_id,
            payload=event_payload(game, public_url),
            enabled=settings.scheduled_events_enabled if settings is not None else True,
            refused_at=settings.scheduled_events_error_at if settings is not None else None,
        )


def record_refusal(
    sessions: sessionmaker[Session], guild_id: int, error: str | None, now: datetime
) -> bool:
    """Store (or, with None, clear) why the server refused, and when; True if it is news."""
    with sessions.begin() as session:
        before = session.scalars(
            select(GuildSettings.scheduled_events_error).where(GuildSettings.guild_id == guild_id)
        ).one_or_none()
        if before is None and error is None:
            return False
        values = {
            "scheduled_events_error": error,
            "scheduled_events_error_at": now if error else None,
        }
        session.execute(
            insert(GuildSettings)
            .values(guild_id=guild_id, **values)
            .on_conflict_do_update(index_elements=[GuildSettings.guild_id], set_=values)
        )
        return before != error


@dataclass
class _Slot:
    dirty: bool = False
    task: asyncio.Task[None] | None = None
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class ScheduledEventMirror:
    """Keeps each game's guild scheduled event matching the game, in the background."""

    def __init__(
        self,
        client: discord.Client,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        public_url: str,
        pacer: ChannelPacer | None = None,
        requests: RequestScheduler | None = None,
    ) -> None:
        self._client = client
        self._requests = requests
        self._sessions = sessions
        self._clock = clock
        self._public_url = public_url
        # Discord's scheduled-event buckets are per server: pace per guild id.
        self._pacer = pacer or ChannelPacer()
        self._slots: dict[uuid.UUID, _Slot] = {}
        self._written: OrderedDict[uuid.UUID, str] = OrderedDict()
        self._full_warned: dict[int, datetime] = {}  # guild -> when we last said it is full

    def request(self, game_id: uuid.UUID) -> None:
        """Ask for the game's event to be brought up to date; returns at once."""
        self._mark(game_id)

    async def sync(self, game_id: uuid.UUID) -> None:
        """Bring the game's event up to date and return once done (for tests and tools)."""
        waiter = asyncio.get_running_loop().create_future()
        self._mark(game_id).waiters.append(waiter)
        await waiter

    async def wait_idle(self) -> None:
        """Return once no sync is pending or running."""
        while tasks := [s.task for s in self._slots.values() if s.task is not None]:
            await asyncio.wait(tasks)

    def _mark(self, game_id: uuid.UUID) -> _Slot:
        slot = self._slots.setdefault(game_id, _Slot())
        slot.dirty = True
        if slot.task is None:
            slot.task = asyncio.create_task(self._write(game_id, slot), name=f"event-{game_id}")
        return slot

    async def _write(self, game_id: uuid.UUID, slot: _Slot) -> None:
        try:
            while slot.dirty:
                if self._requests is not None:
                    # Not even the database read while start edits or reminders wait (and
                    # changes made meanwhile are one sync).
                    await self._requests.calm()
                slot.dirty = False
                waiters, slot.waiters = slot.waiters, []
                try:
                    # The Events tab can wait for messages and DMs: last in the budget.
                    with request_urgency(Urgency.BACKGROUND):
                        await self._sync_once(game_id)
                except Exception:
                    # Never retried in a loop: the next change of the game tries again.
                    logger.exception("scheduled event sync failed", extra={"game_id": str(game_id)})
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            slot.task = None
            if not slot.dirty:
                self._slots.pop(game_id, None)

    # one sync -----------------------------------------------------------------------

    async def _sync_once(self, game_id: uuid.UUID) -> None:
        state = await asyncio.to_thread(
            load_mirror_input, self._sessions, game_id, self._public_url
        )
        if state is None or not state.enabled:
            return
        now = self._clock.now()
        if state.refused_at is not None and now - state.refused_at < RETRY_AFTER:
            return
        try:
            await self._apply(state, now)
        except discord.Forbidden as exc:
            await self._refused(state, exc, now)
            return
        if state.refused_at is not None:
            await asyncio.to_thread(record_refusal, self._sessions, state.guild_id, None, now)
            logger.info("scheduled events work again", extra={"guild_id": state.guild_id})

    async def _refused(self, state: MirrorInput, exc: discord.Forbidden, now: datetime) -> None:
        reason = (
            "The bot lacks the Manage Events permission in this server, so games are not "
            f"shown in its Events tab (Discord said: {exc.code} {exc.text or 'Forbidden'})."
        )
        changed = await asyncio.to_thread(
            record_refusal, self._sessions, state.guild_id, reason, now
        )
        if changed:
            logger.warning(
                "scheduled events refused: missing permissions",
                extra={"guild_id": state.guild_id, "code": exc.code},
            )

    async def _call(self, guild_id: int, request: Any) -> Any:
        await self._pacer.acquire(guild_id)
        return await request()

    async def _apply(self, state: MirrorInput, now: datetime) -> None:
        http = self._client.http
        guild, event_id = state.guild_id, state.event_id
        if state.status is GameStatus.SCHEDULED:
            if event_id is not None and self._unchanged(state):
                return
            if event_id is not None:
                try:
                    await self._call(
                        guild, lambda: http.edit_scheduled_event(guild, event_id, **state.payload)
                    )
                    self._remember(state)
                    return
                except discord.NotFound:
                    await asyncio.to_thread(
                        swap_discord_id, self._sessions, state.game_id, EVENT_ID, event_id, None
                    )
                    event_id = None  # deleted by a person in Discord: made anew below
            await self._create(state, now, expected=event_id)
            return
        if event_id is None:
            return  # started or ended without an event: Discord refuses events in the past
        try:
            current = await self._call(
                guild, lambda: http.get_scheduled_event(guild, event_id, False)
            )
        except discord.NotFound:
            await asyncio.to_thread(
                swap_discord_id, self._sessions, state.game_id, EVENT_ID, event_id, None
            )
            return
        await self._follow_status(state, event_id, int(current["status"]))

    async def _create(self, state: MirrorInput, now: datetime, *, expected: int | None) -> None:
        start = datetime.fromisoformat(state.payload["scheduled_start_time"])
        guild = state.guild_id
        if start <= now:
            return
        await self._pacer.acquire(guild)
        if start <= self._clock.now():
            return  # it started while waiting for the server's budget: Discord would refuse
        http = self._client.http
        try:
            created = await http.create_guild_scheduled_event(guild, **state.payload)
        except discord.HTTPException as exc:
            # The request waits behind every more urgent one (BACKGROUND), so at a busy
            # start minute the game can start before its turn comes: Discord refuses an
            # event in the past, and there is nothing left to show in the Events tab.
            if exc.status == 400 and start <= self._clock.now():
                logger.info(
                    "scheduled event not created: the game started first",
                    extra={"game_id": str(state.game_id), "guild_id": guild},
                )
                return
            if exc.code == TOO_MANY_EVENTS:
                self._server_full(state)
                return
            raise
        new_id = int(created["id"])
        if not await asyncio.to_thread(
            swap_discord_id, self._sessions, state.game_id, EVENT_ID, expected, new_id
        ):
            await self._call(guild, lambda: http.delete_scheduled_event(guild, new_id))
            return
        self._remember(state)
        logger.info(
            "scheduled event created",
            extra={"game_id": str(state.game_id), "guild_id": guild, "event_id": new_id},
        )

    def _server_full(self, state: MirrorInput) -> None:
        """Discord's 100 events that have not ended: a warning per server now and then."""
        now = self._clock.now()
        last = self._full_warned.get(state.guild_id)
        if last is None or now - last >= RETRY_AFTER:
            self._full_warned[state.guild_id] = now
            logger.warning(
                "scheduled event not created: the server has the 100 upcoming events "
                "Discord allows; games past them are not in its Events tab",
                extra={"game_id": str(state.game_id), "guild_id": state.guild_id},
            )

    async def _follow_status(self, state: MirrorInput, event_id: int, current: int) -> None:
        guild = state.guild_id
        http = self._client.http
        fields = {k: v for k, v in state.payload.items() if k != "scheduled_start_time"}

        async def edit(**values: Any) -> None:
            await self._call(guild, lambda: http.edit_scheduled_event(guild, event_id, **values))

        if current in (COMPLETED, CANCELED):
            return
        if state.status is GameStatus.IN_PROGRESS:
            if current == SCHEDULED:
                await edit(status=ACTIVE, **fields)
            elif not self._unchanged(state):
                await edit(**fields)
            self._remember(state)
        elif state.status is GameStatus.COMPLETED:
            if current == SCHEDULED:
                await edit(status=ACTIVE)
            await edit(status=COMPLETED)
            self._forget(state.game_id)
        elif state.status is GameStatus.CANCELLED:
            if current == SCHEDULED:
                await edit(status=CANCELED)
            else:
                await self._call(guild, lambda: http.delete_scheduled_event(guild, event_id))
                await asyncio.to_thread(
                    swap_discord_id, self._sessions, state.game_id, EVENT_ID, event_id, None
                )
            self._forget(state.game_id)
        logger.info(
            "scheduled event follows the game",
            extra={"game_id": str(state.game_id), "status": state.status.value},
        )

    # what was written last, to skip edits that change nothing (joins and leaves) ------

    @staticmethod
    def _digest(state: MirrorInput) -> str:
        raw = json.dumps(state.payload, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()

    def _unchanged(self, state: MirrorInput) -> bool:
        return self._written.get(state.game_id) == self._digest(state)

    def _remember(self, state: MirrorInput) -> None:
        self._written[state.game_id] = self._digest(state)
        self._written.move_to_end(state.game_id)
        while len(self._written) > WRITTEN_MEMORY:
            self._written.popitem(last=False)

    def _forget(self, game_id: uuid.UUID) -> None:
        self._written.pop(game_id, None)
