"""A game the bot may not post is recorded, shown in the API, told to its host once, and
posted when the game next changes; its events are handled, not retried into the DLQ."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.schemas import game_out
from game_scheduler.bot.bot import build_bot
from game_scheduler.config import Settings
from game_scheduler.games import service
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from tests.bot.conftest import (
    CHANNEL_ID,
    GUILD_ID,
    HOST_ID,
    NOW,
    Wired,
    channel_messages,
    create_game,
    dms_of,
    game_row,
)
from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client

pytestmark = pytest.mark.integration

POST_ROUTE = f"POST /channels/{CHANNEL_ID}/messages"


@pytest.mark.parametrize(
    ("code", "reason"), [(50013, "Missing Permissions"), (50001, "Missing Access")]
)
async def test_a_game_the_bot_cannot_post_is_recorded_shown_and_told_to_the_host_once(
    wired: Wired,
    session_factory: sessionmaker[Session],
    discord_sandbox: SandboxHandle,
    code: int,
    reason: str,
) -> None:
    game_id = create_game(session_factory, title="Locked room")
    await discord_sandbox.fault(POST_ROUTE, 403, count=10, code=code)

    # Returns normally: the consumer acknowledges the event instead of retrying it.
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="pc-1")
    await wired.deliver(EventType.GAME_UPDATED, {"game_id": str(game_id)}, message_id="pu-1")

    game = game_row(session_factory, game_id)
    assert game.message_id is None
    shown = game_out(game, service.roster_of(game)).model_dump(mode="json")
    assert str(CHANNEL_ID) in shown["post_error"]
    assert f"{reason} (Discord error {code})" in shown["post_error"]
    state = await discord_sandbox.state()
    [dm] = dms_of(state, HOST_ID)  # one DM, though two posts failed
    assert "could not post your game **Locked room**" in dm["content"]
    assert f"<#{CHANNEL_ID}>" in dm["content"]
    assert channel_messages(state) == []


async def test_the_post_is_retried_when_the_game_changes_and_the_error_clears(
    wired: Wired,
    session_factory: sessionmaker[Session],
    discord_sandbox: SandboxHandle,
) -> None:
    game_id = create_game(session_factory, title="Locked room")
    await discord_sandbox.fault(POST_ROUTE, 403, count=1, code=50013)
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="pc-2")
    assert game_row(session_factory, game_id).post_error is not None

    # The host fixed the channel's permissions (the fault is used up) and edits the game.
    with session_factory.begin() as session:
        service.update_game(session, game_id, {"title": "Open room"}, now=NOW)
    await wired.deliver(EventType.GAME_UPDATED, {"game_id": str(game_id)}, message_id="pu-2")

    game = game_row(session_factory, game_id)
    assert game.post_error is None
    [message] = channel_messages(await discord_sandbox.state())
    assert int(message["id"]) == game.message_id
    assert message["embeds"][0]["title"].startswith("Open room")


async def test_other_failures_are_still_retried(
    wired: Wired,
    session_factory: sessionmaker[Session],
    discord_sandbox: SandboxHandle,
) -> None:
    game_id = create_game(session_factory)
    await discord_sandbox.fault(POST_ROUTE, 403, count=1, code=50035)  # not a permission code
    with pytest.raises(discord.Forbidden):
        await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="pc-3")
    assert game_row(session_factory, game_id).post_error is None


async def test_the_bot_retries_refused_posts_when_discord_reports_a_server_change(
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    rabbitmq_vhost_url: str,
) -> None:
    settings = Settings(rabbitmq_url=rabbitmq_vhost_url, discord_api_base=discord_sandbox.api_base)
    bot = build_bot(settings, sessions=session_factory, guild_ready_timeout=GUILD_READY_TIMEOUT)
    async with connected_client(discord_sandbox, bot):
        game_id = create_game(session_factory, now=datetime.now(UTC), title="Fixed later")
        await discord_sandbox.fault(POST_ROUTE, 403, count=1, code=50013)
        await bot.event_handlers.handle(
            ReceivedEvent.of(
                Event(event_type=EventType.GAME_CREATED, data={"game_id": str(game_id)}), "b-1"
            )
        )
        assert game_row(session_factory, game_id).post_error is not None
        [dm] = dms_of(await discord_sandbox.state(), HOST_ID)  # the bot's own wiring DMs
        assert "Fixed later" in dm["content"]

        # Someone gives the bot its permissions back; Discord reports the channel change.
        assert await bot.retry_failed_posts(GUILD_ID) == 1
        await bot.refresher.wait_idle()
        game = game_row(session_factory, game_id)
        assert game.post_error is None
        assert game.message_id is not None
        assert await bot.retry_failed_posts(GUILD_ID) == 0
