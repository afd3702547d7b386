"""Games mirrored as Discord guild scheduled events, through the handlers, on the sandbox."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger
from game_scheduler.bot.events.handlers import EventHandlers
from game_scheduler.bot.pacing import ChannelPacer
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.bot.scheduled_events import ScheduledEventMirror
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.schemas import parse_payload
from game_scheduler.testing import FrozenClock
from tests.bot.conftest import CHANNEL_ID, GUILD_ID, NOW, channel_messages, create_game, game_row
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


@dataclass
class Mirrored:
    """Handlers wired with the event mirror, as the bot wires them."""

    handlers: EventHandlers
    mirror: ScheduledEventMirror
    refresher: MessageRefresher
    sessions: sessionmaker[Session]
    clock: FrozenClock
    sandbox: SandboxHandle

    async def deliver(self, event_type: EventType, game_id: uuid.UUID, **data: Any) -> None:
        """Hand the handlers one event as the consumer would, then let the mirror finish."""
        event = Event(event_type=event_type, data={"game_id": str(game_id), **data})
        received = ReceivedEvent(
            message_id=f"m-{uuid.uuid4()}", event=event, payload=parse_payload(event)
        )
        await self.handlers.handle(received)
        await self.mirror.wait_idle()

    async def transition(self, game_id: uuid.UUID, target: GameStatus) -> None:
        await self.deliver(
            EventType.GAME_STATUS_TRANSITION_DUE,
            game_id,
            target_status=target.value,
            transition_time=self.clock.now().isoformat(),
        )

    async def events(self, guild_id: int = GUILD_ID) -> list[dict[str, Any]]:
        state = await self.sandbox.state()
        return list(state["scheduled_events"].get(str(guild_id), []))


@pytest_asyncio.fixture
async def mirrored(
    discord_client: discord.Client,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> AsyncIterator[Mirrored]:
    refresher = MessageRefresher(discord_client, session_factory, public_url="http://games.test")
    messenger = DirectMessenger(discord_client, session_factory)
    mirror = ScheduledEventMirror(
        discord_client, session_factory, clock, public_url="http://games.test"
    )
    handlers = EventHandlers(
        session_factory, refresher, messenger, clock, on_game_changed=mirror.request
    )
    yield Mirrored(handlers, mirror, refresher, session_factory, clock, discord_sandbox)
    await mirror.wait_idle()
    await refresher.wait_idle()


def edit(sessions: sessionmaker[Session], game_id: uuid.UUID, **changes: Any) -> None:
    with sessions.begin() as session:
        service.update_game(session, game_id, changes, now=NOW)


def cancel(sessions: sessionmaker[Session], game_id: uuid.UUID) -> None:
    with sessions.begin() as session:
        service.cancel_game(session, game_id, now=NOW)


async def test_a_posted_game_becomes_an_external_event(mirrored: Mirrored) -> None:
    game_id = create_game(
        mirrored.sessions, where="Table 3", description="Bring snacks", expected_duration_minutes=90
    )
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    [event] = await mirrored.events()
    game = game_row(mirrored.sessions, game_id)
    [message] = channel_messages(await mirrored.sandbox.state())
    assert event["id"] == str(game.discord_event_id)
    assert event["name"] == "Catan night"
    assert event["entity_type"] == 3
    assert event["entity_metadata"] == {"location": "Table 3"}
    assert event["status"] == 1
    start = NOW + timedelta(hours=2)
    assert event["scheduled_start_time"] == start.isoformat()
    assert event["scheduled_end_time"] == (start + timedelta(minutes=90)).isoformat()
    link = f"https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{message['id']}"
    assert event["description"] == f"Bring snacks\n\nSign up: {link}"


async def test_the_message_links_to_the_games_ics_and_google(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    [message] = channel_messages(await mirrored.sandbox.state())
    fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
    assert fields["Add to calendar"] == (
        f"[Download .ics](http://games.test/calendar/games/{game_id}.ics)"
        f" · [Google Calendar](http://games.test/calendar/games/{game_id}/google)"
    )

    cancel(mirrored.sessions, game_id)
    await mirrored.deliver(EventType.GAME_CANCELLED, game_id)
    [message] = channel_messages(await mirrored.sandbox.state())
    assert "Add to calendar" not in {f["name"] for f in message["embeds"][0]["fields"]}


async def test_an_edit_moves_the_event_and_a_join_writes_nothing(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    edit(mirrored.sessions, game_id, title="Catan finals", where="Café")
    await mirrored.deliver(EventType.GAME_UPDATED, game_id)
    with mirrored.sessions.begin() as session:
        service.join_game(session, game_id, 42, now=NOW)
    await mirrored.deliver(EventType.GAME_UPDATED, game_id)

    [event] = await mirrored.events()
    assert event["name"] == "Catan finals"
    assert event["entity_metadata"] == {"location": "Café"}
    assert event["edits"] == 1


async def test_event_follows_start_and_end(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    mirrored.clock.advance(timedelta(hours=2))
    await mirrored.transition(game_id, GameStatus.IN_PROGRESS)
    assert [e["status"] for e in await mirrored.events()] == [2]

    mirrored.clock.advance(timedelta(hours=1))
    await mirrored.transition(game_id, GameStatus.COMPLETED)
    assert [e["status"] for e in await mirrored.events()] == [3]


async def test_a_cancelled_game_cancels_its_event(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions, players=[11])
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    cancel(mirrored.sessions, game_id)
    await mirrored.deliver(EventType.GAME_CANCELLED, game_id)

    assert [e["status"] for e in await mirrored.events()] == [4]


async def test_a_game_cancelled_while_running_loses_its_event(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)
    mirrored.clock.advance(timedelta(hours=2))
    await mirrored.transition(game_id, GameStatus.IN_PROGRESS)

    cancel(mirrored.sessions, game_id)
    await mirrored.deliver(EventType.GAME_CANCELLED, game_id)

    assert await mirrored.events() == []
    assert game_row(mirrored.sessions, game_id).discord_event_id is None


async def test_a_game_moved_twice_quickly_ends_as_one_event_at_the_last_time(
    mirrored: Mirrored,
) -> None:
    game_id = create_game(mirrored.sessions)
    last = NOW + timedelta(days=3)
    mirrored.mirror.request(game_id)  # posted: the create is under way
    edit(mirrored.sessions, game_id, scheduled_at=NOW + timedelta(days=2))
    mirrored.mirror.request(game_id)
    edit(mirrored.sessions, game_id, scheduled_at=last)
    mirrored.mirror.request(game_id)
    await mirrored.mirror.wait_idle()

    [event] = await mirrored.events()
    assert event["scheduled_start_time"] == last.isoformat()
    assert event["id"] == str(game_row(mirrored.sessions, game_id).discord_event_id)


async def test_missing_manage_events_is_stored_once_and_blocks_nothing(
    mirrored: Mirrored, caplog: pytest.LogCaptureFixture
) -> None:
    await mirrored.sandbox.fault("POST /guilds/*/scheduled-events", 403, code=50013, count=5)
    first = create_game(mirrored.sessions, players=[11])
    second = create_game(mirrored.sessions, starts_in=timedelta(days=1))

    await mirrored.deliver(EventType.GAME_CREATED, first)
    await mirrored.deliver(EventType.GAME_CREATED, second)

    state = await mirrored.sandbox.state()
    assert len(channel_messages(state)) == 2  # both messages posted all the same
    assert await mirrored.events() == []
    with mirrored.sessions() as session:
        error = session.execute(
            text("SELECT scheduled_events_error FROM guild_settings WHERE guild_id = :g"),
            {"g": GUILD_ID},
        ).scalar_one()
    assert "Manage Events" in error
    refusals = [r for r in caplog.records if r.getMessage().startswith("scheduled events refused")]
    assert len(refusals) == 1
    # Not asked again: only the first create reached the sandbox.
    assert state["faults"][0]["count"] == 4

    mirrored.clock.advance(timedelta(hours=7))  # much later, the server is asked again
    await mirrored.deliver(EventType.GAME_UPDATED, second)
    assert (await mirrored.sandbox.state())["faults"][0]["count"] == 3
    refusals = [r for r in caplog.records if r.getMessage().startswith("scheduled events refused")]
    assert len(refusals) == 1  # refused again, but already known: not logged again
    await mirrored.deliver(EventType.GAME_UPDATED, second)  # and the pause starts anew
    assert (await mirrored.sandbox.state())["faults"][0]["count"] == 3


async def test_a_server_that_turned_it_off_gets_no_events(mirrored: Mirrored) -> None:
    with mirrored.sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO guild_settings (guild_id, scheduled_events_enabled) VALUES (:g, false)"
            ),
            {"g": GUILD_ID},
        )
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)

    assert await mirrored.events() == []
    assert len(channel_messages(await mirrored.sandbox.state())) == 1


async def test_an_event_deleted_in_discord_is_made_anew(mirrored: Mirrored) -> None:
    game_id = create_game(mirrored.sessions)
    await mirrored.deliver(EventType.GAME_CREATED, game_id)
    [event] = await mirrored.events()
    mirrored.sandbox.state_object.scheduled_events.delete(GUILD_ID, int(event["id"]))

    edit(mirrored.sessions, game_id, title="Back again")
    await mirrored.deliver(EventType.GAME_UPDATED, game_id)

    [again] = await mirrored.events()
    assert again["name"] == "Back again"
    assert again["id"] == str(game_row(mirrored.sessions, game_id).discord_event_id)


async def test_a_game_that_starts_while_its_event_waits_for_the_budget_gets_none(
    discord_client: discord.Client,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The server's scheduled-event budget is spent: the next create waits 0.3 s for it.
    pacer = ChannelPacer(limit=1, window=0.3)
    await pacer.acquire(GUILD_ID)
    mirror = ScheduledEventMirror(
        discord_client, session_factory, clock, public_url="http://games.test", pacer=pacer
    )
    game_id = create_game(session_factory, starts_in=timedelta(minutes=1))

    syncing = asyncio.create_task(mirror.sync(game_id))
    await asyncio.sleep(0.05)
    clock.advance(timedelta(minutes=2))  # the game starts during the wait
    await syncing

    state = await discord_sandbox.state()
    assert state["scheduled_events"].get(str(GUILD_ID), []) == []
    assert game_row(session_factory, game_id).discord_event_id is None
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # nothing refused, no noise


async def test_a_game_that_starts_while_its_create_waits_for_a_turn_is_let_go_quietly(
    discord_client: discord.Client,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Real time, so the sandbox judges "in the past" as Discord does.
    clock = FrozenClock(datetime.now(UTC) - timedelta(minutes=5))
    mirror = ScheduledEventMirror(
        discord_client, session_factory, clock, public_url="http://games.test"
    )
    game_id = create_game(session_factory, now=clock.now(), starts_in=timedelta(minutes=1))
    create = discord_client.http.create_guild_scheduled_event

    async def create_after_a_long_wait(*args: Any, **kwargs: Any) -> Any:
        # Behind a Friday's start edits (BACKGROUND): the game starts before the turn comes.
        clock.advance(timedelta(minutes=2))
        return await create(*args, **kwargs)

    monkeypatch.setattr(
        discord_client.http, "create_guild_scheduled_event", create_after_a_long_wait
    )
    caplog.set_level(logging.INFO, logger="game_scheduler.bot.scheduled_events")
    await mirror.sync(game_id)

    state = await discord_sandbox.state()
    assert state["scheduled_events"].get(str(GUILD_ID), []) == []
    assert game_row(session_factory, game_id).discord_event_id is None
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("the game started first" in r.getMessage() for r in caplog.records)


async def test_games_past_discords_hundred_events_get_none_with_one_warning(
    discord_client: discord.Client,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mirror = ScheduledEventMirror(
        discord_client,
        session_factory,
        clock,
        public_url="http://games.test",
        pacer=ChannelPacer(limit=1000, window=1),
    )
    games = [create_game(session_factory, starts_in=timedelta(hours=2 + i)) for i in range(102)]
    for game_id in games:
        await mirror.sync(game_id)

    state = await discord_sandbox.state()
    assert len(state["scheduled_events"][str(GUILD_ID)]) == 100  # Discord's most
    assert [game_row(session_factory, g).discord_event_id for g in games[100:]] == [None, None]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    full = [r for r in caplog.records if "100 upcoming events" in r.getMessage()]
    assert len(full) == 1  # said once, not per game
