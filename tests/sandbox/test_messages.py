"""Messages and DMs through discord.py's own calls, checked in the sandbox's state."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fixtures.sandbox import SandboxHandle

CHANNEL_ID = 123_456_789_012_345_678
PLAYER_ID = 222_333_444_555_666_777


async def _channel(client: discord.Client, channel_id: int = CHANNEL_ID) -> discord.TextChannel:
    channel = await client.fetch_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_send_fetch_edit_delete(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    channel = await _channel(discord_client)
    embed = discord.Embed(title="Game night", description="Bring dice", colour=0x2ECC71)
    embed.add_field(name="Where", value="Table 3").set_footer(text="Host: Ana")
    sent = await channel.send("New game", embed=embed)

    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "New game"
    assert fetched.embeds[0].title == "Game night"
    assert fetched.embeds[0].fields[0].value == "Table 3"
    assert fetched.author.id == discord_client.user.id  # type: ignore[union-attr]

    edited = await sent.edit(content="Game moved")
    assert edited.content == "Game moved"
    assert edited.edited_at is not None
    state = await discord_sandbox.state()
    (stored,) = state["channels"][str(CHANNEL_ID)]
    assert stored["id"] == str(sent.id)
    assert stored["content"] == "Game moved"
    assert stored["embeds"][0]["footer"]["text"] == "Host: Ana"
    assert stored["edits"] == 1

    await sent.delete()
    assert (await discord_sandbox.state())["channels"][str(CHANNEL_ID)] == []
    with pytest.raises(discord.NotFound) as fetch_error:
        await channel.fetch_message(sent.id)
    assert fetch_error.value.code == 10008
    with pytest.raises(discord.NotFound):
        await sent.edit(content="too late")


async def test_any_snowflake_is_a_channel_of_the_sandbox_guild(
    discord_client: discord.Client,
) -> None:
    channel = await _channel(discord_client, 987_654_321_098_765_432)
    assert channel.guild.id == discord_client.guilds[0].id
    # The Gateway announced the channel, so the cache knows it too.
    assert discord_client.get_channel(channel.id) is not None


async def test_message_ids_are_timestamp_snowflakes(discord_client: discord.Client) -> None:
    channel = await _channel(discord_client)
    first = await channel.send("one")
    second = await channel.send("two")
    assert second.id > first.id
    assert abs((first.created_at - discord.utils.utcnow()).total_seconds()) < 60


async def test_dm_to_a_user(discord_client: discord.Client, discord_sandbox: SandboxHandle) -> None:
    user = await discord_client.fetch_user(PLAYER_ID)
    dm = await user.create_dm()
    assert dm.recipient is not None
    assert dm.recipient.id == PLAYER_ID
    await dm.send("Your game starts in 15 minutes")
    await user.send("and again")
    state = await discord_sandbox.state()
    assert [m["content"] for m in state["dms"][str(PLAYER_ID)]] == [
        "Your game starts in 15 minutes",
        "and again",
    ]


async def test_content_over_2000_is_invalid_form_body(discord_client: discord.Client) -> None:
    channel = await _channel(discord_client)
    with pytest.raises(discord.HTTPException) as error:
        await channel.send("x" * 2001)
    assert error.value.status == 400
    assert error.value.code == 50035
    assert "content" in error.value.text


async def test_embeds_over_6000_characters_are_refused(discord_client: discord.Client) -> None:
    channel = await _channel(discord_client)
    embeds = [discord.Embed(title="t", description="d" * 4000) for _ in range(2)]
    with pytest.raises(discord.HTTPException) as error:
        await channel.send(embeds=embeds)
    assert (error.value.status, error.value.code) == (400, 50035)
    assert "6000" in error.value.text


async def test_embed_field_limits(discord_client: discord.Client) -> None:
    channel = await _channel(discord_client)
    embed = discord.Embed(title="t" * 257)
    for index in range(26):
        embed.add_field(name=f"f{index}", value="v")
    with pytest.raises(discord.HTTPException) as error:
        await channel.send(embed=embed)
    assert error.value.code == 50035
    assert "embeds.0.title" in error.value.text
    assert "embeds.0.fields" in error.value.text


async def test_six_buttons_in_a_row_are_refused(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    channel = await _channel(discord_client)
    button = {"type": 2, "style": 1, "label": "b", "custom_id": "c"}
    rows = [{"type": 1, "components": [button] * 6}]
    # discord.py refuses to build such a View itself, so this goes out raw as a bot would.
    url = f"{discord_sandbox.api_base}/channels/{channel.id}/messages"
    headers = {"Authorization": "Bot sandbox-token"}
    body = {"content": "x", "components": rows}
    async with discord_sandbox.session.post(url, json=body, headers=headers) as response:
        data = await response.json()
    assert response.status == 400
    assert data["code"] == 50035
    assert data["message"] == "Invalid Form Body"
    assert data["errors"]["components"]["0"]["components"]["_errors"][0]["code"] == (
        "BASE_TYPE_BAD_LENGTH"
    )


async def test_custom_id_over_100_and_six_rows_are_refused(discord_sandbox: SandboxHandle) -> None:
    url = f"{discord_sandbox.api_base}/channels/{CHANNEL_ID}/messages"
    headers = {"Authorization": "Bot sandbox-token"}
    long_id = {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "i" * 101}]}
    row = {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "ok"}]}
    for components, path in (([long_id], "0"), ([row] * 6, "_errors")):
        body = {"content": "x", "components": components}
        async with discord_sandbox.session.post(url, json=body, headers=headers) as response:
            data = await response.json()
        assert response.status == 400
        assert path in data["errors"]["components"]


async def test_discord_errors_and_headers_on_raw_calls(discord_sandbox: SandboxHandle) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{discord_sandbox.api_base}/users/@me") as response:
            assert response.status == 401
            assert (await response.json())["code"] == 0
        headers = {"Authorization": "Bot x"}
        async with session.get(f"{discord_sandbox.api_base}/nope", headers=headers) as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            assert "message" in await response.json()
        url = f"{discord_sandbox.api_base}/channels/{CHANNEL_ID}"
        async with session.get(url, headers=headers) as response:
            assert response.status == 200
            for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
                assert f"X-RateLimit-{name}" in response.headers


async def test_a_repeated_send_with_an_enforced_nonce_posts_once(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    channel = await _channel(discord_client)
    # discord.py sends every nonce with enforce_nonce set, as a retry-safe send should.
    first = await channel.send("Reminder", nonce="reminder-42")
    again = await channel.send("Reminder", nonce="reminder-42")
    other = await channel.send("Reminder", nonce="reminder-43")
    assert again.id == first.id
    assert other.id != first.id
    assert len((await discord_sandbox.state())["channels"][str(CHANNEL_ID)]) == 2
