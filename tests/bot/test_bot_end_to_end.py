"""The whole bot: real discord.py on the sandbox, events from RabbitMQ, games in PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.bot import GameBot, build_bot
from game_scheduler.bot.discord_endpoint import point_discord_at
from game_scheduler.config import DISCORD_API_BASE, Settings
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.topology import Topology
from tests.bot.conftest import buttons, channel_messages, create_game, dms_of, footer, game_row
from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client
from tests.scheduler.helpers import OUTBOX, make_daemon, running

pytestmark = pytest.mark.integration

WAIT = 10.0  # seconds


async def eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    """Poll `check` until it returns something truthy; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


class Harness:
    """Starts bots and publishes events the way the scheduler daemons do."""

    def __init__(
        self,
        sandbox: SandboxHandle,
        sessions: sessionmaker[Session],
        settings: Settings,
        topology: Topology,
    ) -> None:
        self.sandbox = sandbox
        self.sessions = sessions
        self.settings = settings
        self.topology = topology

    def bot(self) -> GameBot:
        """A new bot on the test's database, vhost, topology and sandbox."""
        return build_bot(
            self.settings,
            sessions=self.sessions,
            topology=self.topology,
            guild_ready_timeout=GUILD_READY_TIMEOUT,
        )

    async def publish(self, event_type: EventType, data: dict[str, Any], message_id: str) -> None:
        """Publish one event with publisher confirms."""

        def send() -> None:
            publisher = PikaPublisher(self.settings.rabbitmq_url, topology=self.topology)
            try:
                event = Event(event_type=event_type, data=data)
                publisher.publish_batch([OutgoingMessage(message_id, event)])
            finally:
                publisher.close()

        await asyncio.to_thread(send)

    @contextlib.contextmanager
    def outbox_daemon(self) -> Iterator[None]:
        """The outbox daemon, running in a thread: changes reach the bot as they would."""
        daemon = make_daemon(
            self.settings.database_url,
            OUTBOX,
            publisher=PikaPublisher(self.settings.rabbitmq_url, topology=self.topology),
        )
        with running(daemon):
            yield

    async def game_message(self, game_id: uuid.UUID) -> dict[str, Any]:
        """Wait for the game's message in its channel and return it."""

        async def find() -> dict[str, Any] | None:
            message_id = game_row(self.sessions, game_id).message_id
            for message in channel_messages(await self.sandbox.state()):
                if message["id"] == str(message_id):
                    return message
            return None

        found: dict[str, Any] = await eventually(find)
        return found


@pytest_asyncio.fixture
async def harness(
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    database_url: str,
    rabbitmq_vhost_url: str,
    rabbitmq_topology: Topology,
) -> AsyncIterator[Harness]:
    """Everything but the bot, which each test starts (and restarts) itself."""
    settings = Settings(
        database_url=database_url,
        rabbitmq_url=rabbitmq_vhost_url,
        discord_api_base=discord_sandbox.api_base,
    )
    yield Harness(discord_sandbox, session_factory, settings, rabbitmq_topology)


def future_game(harness: Harness, **fields: Any) -> uuid.UUID:
    """A game two hours from now (the bot runs on the real clock)."""
    return create_game(harness.sessions, now=datetime.now(UTC), **fields)


async def test_created_game_appears_and_a_due_transition_edits_it(harness: Harness) -> None:
    game_id = future_game(harness, players=[11])
    async with connected_client(harness.sandbox, harness.bot()):
        await harness.publish(EventType.GAME_CREATED, {"game_id": str(game_id)}, "o-1")
        message = await harness.game_message(game_id)
        assert message["embeds"][0]["title"] == "Catan night"

        data = {
            "game_id": str(game_id),
            "target_status": "IN_PROGRESS",
            "transition_time": datetime.now(UTC).isoformat(),
        }
        await harness.publish(EventType.GAME_STATUS_TRANSITION_DUE, data, "s-1")

        async def edited() -> bool:
            message = await harness.game_message(game_id)
            return message["edits"] >= 1 and footer(message).startswith("In progress")

        await eventually(edited)
    assert game_row(harness.sessions, game_id).status == GameStatus.IN_PROGRESS.value


async def test_a_reminder_delivered_twice_dms_each_player_once(harness: Harness) -> None:
    game_id = future_game(harness, players=[21, 22, 23])
    closed = harness.sandbox.state_object.open_dm(23)
    await harness.sandbox.fault(f"POST /channels/{closed.id}/messages", 403, code=50007)
    data = {
        "game_id": str(game_id),
        "reminder_minutes": 60,
        "notification_time": datetime.now(UTC).isoformat(),
    }
    async with connected_client(harness.sandbox, harness.bot()) as bot:
        await harness.publish(EventType.GAME_REMINDER_DUE, data, "r-1")
        await harness.publish(EventType.GAME_REMINDER_DUE, data, "r-1")

        async def delivered() -> dict[str, Any] | None:
            state = await harness.sandbox.state()
            return state if channel_messages(state) and dms_of(state, 22) else None

        await eventually(delivered)
        await asyncio.sleep(0.3)  # room for the duplicate to (not) do anything
        assert isinstance(bot, GameBot)
        await bot.refresher.wait_idle()
    state = await harness.sandbox.state()
    assert len(dms_of(state, 21)) == 1
    assert len(dms_of(state, 22)) == 1
    [notice] = channel_messages(state)
    assert notice["content"].startswith("<@23> **Catan night** starts")


async def test_a_429_on_an_edit_is_retried_and_the_final_message_is_right(
    harness: Harness,
) -> None:
    game_id = future_game(harness)
    bot = harness.bot()
    async with connected_client(harness.sandbox, bot):
        await harness.publish(EventType.GAME_CREATED, {"game_id": str(game_id)}, "o-1")
        await harness.game_message(game_id)
        await harness.sandbox.fault("PATCH /channels/*/messages/*", 429, retry_after=0.2, count=2)
        with harness.sessions.begin() as session:
            service.join_game(session, game_id, 31, now=datetime.now(UTC))
        started = time.monotonic()
        await harness.publish(EventType.GAME_UPDATED, {"game_id": str(game_id)}, "o-2")

        async def shows_player() -> bool:
            message = await harness.game_message(game_id)
            return "<@31>" in message["embeds"][0]["fields"][5]["value"]

        await eventually(shows_player)
        assert time.monotonic() - started >= 0.4  # two waits of retry_after
    counted = bot.metrics.registry.get_sample_value(
        "game_scheduler_bot_discord_rate_limits_total", {"scope": "route"}
    )
    assert counted == 2


async def test_a_button_press_joins_and_answers_privately_even_after_a_restart(
    harness: Harness,
) -> None:
    game_id = future_game(harness, max_players=1)
    # The press answers at once; its game.updated (through the outbox) refreshes the message.
    with harness.outbox_daemon():
        await press_join_and_restart(harness, game_id)


async def press_join_and_restart(harness: Harness, game_id: uuid.UUID) -> None:
    """Join by button, restart the bot, join again: every press answered and shown once."""
    async with connected_client(harness.sandbox, harness.bot()):
        message = await harness.game_message(game_id)
        join = next(b["custom_id"] for b in buttons(message) if b["label"] == "Join")
        edits = message["edits"]

        answer = await harness.sandbox.click(message["id"], join, 41)

        assert answer["answered"]
        assert answer["response"]["ephemeral"]
        assert answer["response"]["content"] == "You joined the game. See you there!"

        async def shows_player() -> bool:
            current = await harness.game_message(game_id)
            return "<@41>" in current["embeds"][0]["fields"][5]["value"]

        await eventually(shows_player)
        await asyncio.sleep(0.3)  # a second, identical edit would have come by now
        assert (await harness.game_message(game_id))["edits"] == edits + 1  # one per press

    # A new process knows nothing of the message, yet its buttons still work.
    async with connected_client(harness.sandbox, harness.bot()):
        answer = await harness.sandbox.click(message["id"], join, 42)
        assert answer["response"]["content"] == (
            "The game is full: you are on the waitlist at position 1."
        )
        again = await harness.sandbox.click(message["id"], join, 42)
        assert again["response"]["content"] == "You are already in this game."

        async def shows_waitlist() -> bool:
            current = await harness.game_message(game_id)
            names = [f["name"] for f in current["embeds"][0]["fields"]]
            return "Waitlist (1)" in names

        await eventually(shows_waitlist)
    assert [p.user_id for p in game_row(harness.sessions, game_id).participants] == [41, 42]


@contextlib.contextmanager
def sandbox_process(heartbeat_interval_ms: int) -> Iterator[str]:
    """A sandbox in a process of its own, as `game-scheduler run` starts it; its API base."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "from aiohttp import web; from game_scheduler.sandbox.app import create_app; "
        f"web.run_app(create_app(heartbeat_interval_ms={heartbeat_interval_ms}), "
        f"host='127.0.0.1', port={port}, print=None)"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("the sandbox process did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/api/v10"
    finally:
        process.terminate()
        process.wait(WAIT)


async def test_a_session_of_several_heartbeats_logs_no_warning(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # In its own process the sandbox can answer a HEARTBEAT before discord.py's keep-alive
    # thread records the send; that reads as a latency of one whole interval, and with
    # Discord's 41 s interval as a "Can't keep up" warning at every heartbeat.
    interval = 1.0  # seconds
    caplog.set_level(logging.WARNING)
    with sandbox_process(int(interval * 1000)) as api_base:
        settings = harness.settings.model_copy(update={"discord_api_base": api_base})
        bot = build_bot(
            settings,
            sessions=harness.sessions,
            topology=harness.topology,
            guild_ready_timeout=GUILD_READY_TIMEOUT,
        )
        try:
            await bot.login("sandbox-token")
            connection = asyncio.create_task(bot.connect(reconnect=False))
            await asyncio.wait_for(bot.wait_until_ready(), WAIT)
            await asyncio.sleep(3.5 * interval)  # three heartbeats
            latency = bot.latency
        finally:
            await bot.close()
            point_discord_at(DISCORD_API_BASE)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection, WAIT)

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert latency < interval / 2  # the sandbox's ACK delay, not a heartbeat interval
