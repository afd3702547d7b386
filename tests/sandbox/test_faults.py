"""Injected faults and the edit rate limit, as discord.py experiences Discord's."""

from __future__ import annotations

import time

import discord
import pytest

from tests.fixtures.sandbox import SandboxHandle

CHANNEL_ID = 111_222_333_444_555_666
PLAYER_ID = 777_888_999_000_111_222
AUTH = {"Authorization": "Bot sandbox-token"}


async def _message(client: discord.Client, content: str = "game") -> discord.Message:
    channel = await client.fetch_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    return await channel.send(content)


async def test_429_is_retried_by_discord_py_after_retry_after(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _message(discord_client)
    await discord_sandbox.fault("PATCH /channels/*/messages/*", 429, count=2, retry_after=0.3)
    started = time.monotonic()
    edited = await message.edit(content="edited after 429s")
    assert time.monotonic() - started >= 0.6
    assert edited.content == "edited after 429s"
    state = await discord_sandbox.state()
    assert state["channels"][str(CHANNEL_ID)][0]["edits"] == 1
    assert state["faults"] == []


async def test_403_50007_on_a_dm_is_forbidden(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    user = await discord_client.fetch_user(PLAYER_ID)
    await discord_sandbox.fault("POST /channels/*/messages", 403, code=50007)
    with pytest.raises(discord.Forbidden) as error:
        await user.send("reminder")
    assert error.value.code == 50007
    assert error.value.text == "Cannot send messages to this user"
    assert (await discord_sandbox.state())["dms"][str(PLAYER_ID)] == []


async def test_404_fault_is_unknown_message(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _message(discord_client)
    await discord_sandbox.fault("GET /channels/*/messages/*", 404)
    with pytest.raises(discord.NotFound) as error:
        await message.channel.fetch_message(message.id)
    assert error.value.code == 10008
    assert (await message.channel.fetch_message(message.id)).id == message.id


async def test_502_is_retried_once_by_discord_py(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _message(discord_client)
    await discord_sandbox.fault("PATCH /channels/*/messages/*", 502)
    started = time.monotonic()
    await message.edit(content="after a 502")
    # discord.py sleeps 1 + 2 * attempt seconds before retrying 500, 502, 504 and 524.
    assert time.monotonic() - started >= 1.0
    assert (await discord_sandbox.state())["channels"][str(CHANNEL_ID)][0]["content"] == (
        "after a 502"
    )


async def test_503_is_not_retried_and_raises_server_error(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _message(discord_client)
    await discord_sandbox.fault("PATCH /channels/*/messages/*", 503)
    with pytest.raises(discord.DiscordServerError) as error:
        await message.edit(content="never")
    assert error.value.status == 503
    assert (await discord_sandbox.state())["channels"][str(CHANNEL_ID)][0]["content"] == "game"


async def test_faults_only_hit_matching_routes_and_count_down(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    await discord_sandbox.fault("DELETE /channels/*/messages/*", 500, count=3)
    message = await _message(discord_client)
    assert (await discord_sandbox.state())["faults"][0]["count"] == 3
    await message.edit(content="edits are untouched")


async def test_sixth_rapid_edit_in_a_channel_gets_429(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _message(discord_client)
    url = f"{discord_sandbox.api_base}/channels/{CHANNEL_ID}/messages/{message.id}"
    statuses, remaining = [], []
    for attempt in range(6):
        body = {"content": f"edit {attempt}"}
        async with discord_sandbox.session.patch(url, json=body, headers=AUTH) as response:
            statuses.append(response.status)
            remaining.append(response.headers["X-RateLimit-Remaining"])
            data = await response.json()
    assert statuses == [200] * 5 + [429]
    assert remaining[:5] == ["4", "3", "2", "1", "0"]
    assert data["retry_after"] > 0
    assert data["global"] is False
    assert int(response.headers["Retry-After"]) >= 1
    # The limit is per channel: another channel's edits are not held back.
    other = await discord_client.fetch_channel(CHANNEL_ID + 1)
    assert isinstance(other, discord.TextChannel)
    await (await other.send("other")).edit(content="fine")


async def test_reset_forgets_everything(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    await _message(discord_client)
    await discord_sandbox.fault("GET /users/*", 500)
    await discord_sandbox.reset()
    state = await discord_sandbox.state()
    assert state["channels"] == {}
    assert state["faults"] == []
    assert state["interactions"] == {}


async def test_discord_py_waits_out_the_edit_limit_instead_of_hitting_429(
    discord_client: discord.Client, discord_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    message = await _message(discord_client)
    started = time.monotonic()
    for attempt in range(6):
        await message.edit(content=f"edit {attempt}")
    # The headers said "0 remaining" after the fifth edit, so discord.py held the sixth
    # until the window reset instead of being refused.
    assert time.monotonic() - started >= 4.0
    stored = (await discord_sandbox.state())["channels"][str(CHANNEL_ID)][0]
    assert (stored["content"], stored["edits"]) == ("edit 5", 6)
    assert "rate limited" not in caplog.text
