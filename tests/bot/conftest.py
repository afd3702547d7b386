"""Bot test helpers: games in a real database, the handlers wired to a client on the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger
from game_scheduler.bot.events.handlers import EventHandlers, Outcome
from game_scheduler.bot.events.transitions import AppliedTransitions
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.games import service
from game_scheduler.games.service import NewGame
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.testing import FrozenClock

GUILD_ID = 900_000_000_000_000_001
CHANNEL_ID = 900_000_000_000_000_002
HOST_ID = 900_000_000_000_000_003
NOW = datetime(2031, 5, 1, 18, 0, tzinfo=UTC)


def create_game(
    sessions: sessionmaker[Session],
    *,
    now: datetime = NOW,
    starts_in: timedelta = timedelta(hours=2),
    players: list[int] | tuple[int, ...] = (),
    channel_id: int = CHANNEL_ID,
    **fields: Any,
) -> uuid.UUID:
    """Create a game (and its players) through the game service; return its id."""
    values: dict[str, Any] = {"title": "Catan night", "max_players": 4, **fields}
    with sessions.begin() as session:
        game = service.create_game(
            session,
            NewGame(
                guild_id=GUILD_ID,
                channel_id=channel_id,
                host_id=HOST_ID,
                scheduled_at=now + starts_in,
                **values,
            ),
            now=now,
        )
        for user_id in players:
            service.join_game(session, game.id, user_id, now=now)
        return game.id


def game_row(sessions: sessionmaker[Session], game_id: uuid.UUID) -> Any:
    """The game as committed, read in a fresh transaction."""
    with sessions.begin() as session:
        return service.get_game(session, game_id)


def channel_messages(state: dict[str, Any], channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
    """The messages the sandbox holds in a channel."""
    return list(state["channels"].get(str(channel_id), []))


def dms_of(state: dict[str, Any], user_id: int) -> list[dict[str, Any]]:
    """The DMs the sandbox holds for a user."""
    return list(state["dms"].get(str(user_id), []))


def footer(message: dict[str, Any]) -> str:
    """The footer text of a message's first embed."""
    return str(message["embeds"][0]["footer"]["text"])


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message."""
    return [c for row in message["components"] for c in row["components"]]


@dataclass
class Wired:
    """Handlers and their parts, on a real database and a client logged in to the sandbox."""

    handlers: EventHandlers
    refresher: MessageRefresher
    messenger: DirectMessenger
    clock: FrozenClock
    sessions: sessionmaker[Session]
    client: discord.Client
    applied: AppliedTransitions  # what the bot's triage hands its handlers

    async def deliver(
        self, event_type: EventType, data: dict[str, Any], *, message_id: str
    ) -> Outcome:
        """Hand the handlers one delivery of an event, as the consumer does."""
        event = Event(event_type=event_type, data=data)
        return await self.handlers.handle(ReceivedEvent.of(event, message_id))


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at NOW."""
    return FrozenClock(NOW)


@pytest_asyncio.fixture
async def wired(
    discord_client: discord.Client,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> AsyncIterator[Wired]:
    """EventHandlers wired like the bot wires them."""
    messenger = DirectMessenger(discord_client, session_factory)
    refresher = MessageRefresher(discord_client, session_factory, messenger=messenger)
    applied = AppliedTransitions()
    handlers = EventHandlers(session_factory, refresher, messenger, clock, applied=applied)
    yield Wired(handlers, refresher, messenger, clock, session_factory, discord_client, applied)
    await refresher.wait_idle()


# The DM and check-in tests' handlers (news_fixtures imports this module's helpers).
from tests.bot.news_fixtures import news_bot  # noqa: E402, F401
