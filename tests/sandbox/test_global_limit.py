"""Discord's global rate limit in the sandbox: 50 requests per second, then a global 429."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.sandbox import SandboxHandle

AUTH = {"Authorization": "Bot sandbox-token"}
CHANNEL_ID = 333_444_555_666_777_888


async def _burst(sandbox: SandboxHandle, count: int) -> list[tuple[int, dict[str, str], Any]]:
    async def one(index: int) -> tuple[int, dict[str, str], Any]:
        url = f"{sandbox.api_base}/channels/{CHANNEL_ID + index}"
        async with sandbox.session.get(url, headers=AUTH) as response:
            return response.status, dict(response.headers), await response.json()

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _limits(sandbox: SandboxHandle, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with sandbox.session.post(f"{sandbox.url}/sandbox/limits", json=body) as response:
        return response.status, await response.json()


async def test_the_51st_request_in_a_second_meets_a_global_429(
    discord_sandbox: SandboxHandle,
) -> None:
    answers = await _burst(discord_sandbox, 60)

    limited = [a for a in answers if a[0] == 429]
    assert len([a for a in answers if a[0] == 200]) == 50
    assert len(limited) == 10
    _, headers, body = limited[0]
    assert body["global"] is True
    assert 0 < body["retry_after"] <= 1
    assert headers["X-RateLimit-Global"] == "true"
    assert headers["X-RateLimit-Scope"] == "global"
    assert headers["Via"]  # discord.py honours a 429 only through Discord's proxy
    limits = (await discord_sandbox.state())["limits"]
    assert limits["global_per_s"] == 50
    assert limits["global_429s"] == 10


async def test_the_global_limit_can_be_changed_and_turned_off(
    discord_sandbox: SandboxHandle,
) -> None:
    status, limits = await _limits(discord_sandbox, {"global_per_s": 0})
    assert (status, limits["global_per_s"]) == (200, 0)
    assert all(a[0] == 200 for a in await _burst(discord_sandbox, 80))

    await _limits(discord_sandbox, {"global_per_s": 5})
    await asyncio.sleep(1.0)  # the off spell's requests leave the window
    assert [a[0] for a in await _burst(discord_sandbox, 7)].count(429) == 2

    assert (await _limits(discord_sandbox, {"global_per_s": -1}))[0] == 400
    assert (await _limits(discord_sandbox, {"global_per_s": "many"}))[0] == 400
    await discord_sandbox.reset()
    assert (await discord_sandbox.state())["limits"]["global_per_s"] == 50


async def test_interaction_callbacks_are_outside_the_global_limit(
    discord_sandbox: SandboxHandle,
) -> None:
    await _limits(discord_sandbox, {"global_per_s": 1})
    url = f"{discord_sandbox.api_base}/interactions/1/token/callback"
    statuses = []
    for _ in range(3):
        async with discord_sandbox.session.post(url, json={"type": 1}) as response:
            statuses.append(response.status)
    assert 429 not in statuses
    assert (await discord_sandbox.state())["limits"]["global_429s"] == 0
