"""The Gateway websocket: handshake, heartbeats, RESUME, and discord.py reconnecting."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.http_layer import HUB_KEY
from tests.fixtures.sandbox import SandboxHandle

CHANNEL_ID = 555_666_777_888_999_000
AUTH = {"Authorization": "Bot sandbox-token"}


async def _receive(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    frame: dict[str, Any] = await asyncio.wait_for(socket.receive_json(), 5)
    return frame


def _gateway(sandbox: SandboxHandle) -> str:
    # discord.py asks for zlib-stream; the sandbox answers plain text frames anyway.
    return sandbox.url.replace("http", "ws") + "/gateway?v=10&encoding=json&compress=zlib-stream"


async def _post_message(sandbox: SandboxHandle, content: str) -> dict[str, Any]:
    url = f"{sandbox.api_base}/channels/{CHANNEL_ID}/messages"
    async with sandbox.session.post(url, json={"content": content}, headers=AUTH) as response:
        assert response.status == 200
        message: dict[str, Any] = await response.json()
        return message


async def test_hello_identify_ready_guild_create_and_heartbeat(
    discord_sandbox: SandboxHandle,
) -> None:
    await _post_message(discord_sandbox, "before the bot connects")
    async with discord_sandbox.session.ws_connect(_gateway(discord_sandbox)) as socket:
        hello = await _receive(socket)
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] > 0
        await socket.send_json({"op": 1, "d": None})
        assert (await _receive(socket))["op"] == 11
        await socket.send_json({"op": 2, "d": {"token": "t", "intents": 513, "properties": {}}})
        ready = await _receive(socket)
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["resume_gateway_url"] == _gateway(discord_sandbox).split("?")[0]
        assert ready["d"]["user"]["id"] == str(payloads.BOT_USER_ID)
        assert ready["d"]["application"]["id"] == str(payloads.APPLICATION_ID)
        guild_create = await _receive(socket)
        assert guild_create["t"] == "GUILD_CREATE"
        assert [c["id"] for c in guild_create["d"]["channels"]] == [str(CHANNEL_ID)]


async def test_resume_replays_missed_events(discord_sandbox: SandboxHandle) -> None:
    async with discord_sandbox.session.ws_connect(_gateway(discord_sandbox)) as socket:
        await _receive(socket)
        await socket.send_json({"op": 2, "d": {"token": "t", "intents": 513, "properties": {}}})
        session_id = (await _receive(socket))["d"]["session_id"]
        await _receive(socket)  # GUILD_CREATE, seq 2
    missed = await _post_message(discord_sandbox, "sent while disconnected")
    async with discord_sandbox.session.ws_connect(_gateway(discord_sandbox)) as socket:
        await _receive(socket)
        resume = {"token": "t", "session_id": session_id, "seq": 2}
        await socket.send_json({"op": 6, "d": resume})
        frames = [await _receive(socket) for _ in range(3)]
    assert [f["t"] for f in frames] == ["CHANNEL_CREATE", "MESSAGE_CREATE", "RESUMED"]
    assert frames[1]["d"]["id"] == missed["id"]
    assert [f["s"] for f in frames] == [3, 4, 5]


async def test_resume_of_an_unknown_session_is_invalid(discord_sandbox: SandboxHandle) -> None:
    async with discord_sandbox.session.ws_connect(_gateway(discord_sandbox)) as socket:
        await _receive(socket)
        await socket.send_json({"op": 6, "d": {"token": "t", "session_id": "nope", "seq": 9}})
        assert await _receive(socket) == {"op": 9, "d": False}


async def test_discord_py_resumes_after_the_socket_drops(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    resumed = asyncio.ensure_future(discord_client.wait_for("resumed", timeout=5))
    got_message = asyncio.ensure_future(
        discord_client.wait_for("message", check=lambda m: m.content == "missed", timeout=5)
    )
    await discord_sandbox.app[HUB_KEY].close_all()
    await _post_message(discord_sandbox, "missed")
    await resumed
    message = await got_message
    assert message.channel.id == CHANNEL_ID
    assert discord_client.is_ready()
