"""A game in a channel the bot cannot post in is refused up front, where Discord can tell."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import GameSeries, GameSession
from game_scheduler.domain.permissions import EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL
from tests.api import people
from tests.api.conftest import API_TOKEN, game_body
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


async def deny(sandbox: SandboxHandle, channel_id: str, bits: int) -> None:
    """Put an overwrite on the bot in the channel, denying these bits (0: none)."""
    url = f"{sandbox.url}/sandbox/bot-permissions"
    async with sandbox.session.post(url, json={"channel_id": channel_id, "deny": str(bits)}) as r:
        assert r.status == 200, await r.text()


def admin(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=people.API_BASE_URL,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )


def a_game(**overrides: Any) -> dict[str, Any]:
    where = {"guild_id": people.GUILD_A, "channel_id": people.CHANNEL_A, "host_id": people.HOST}
    return game_body(**{**where, **overrides})


def game_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(GameSession)) or 0)


@pytest.mark.parametrize(
    ("denied", "said"),
    [
        (SEND_MESSAGES, "it lacks Send Messages there"),
        (EMBED_LINKS, "it lacks Embed Links there"),
        (SEND_MESSAGES | EMBED_LINKS, "it lacks Send Messages and Embed Links there"),
        (VIEW_CHANNEL, "the bot cannot see channel 710000000000000100 (Discord: Missing Access)"),
    ],
)
async def test_a_create_in_a_channel_the_bot_cannot_post_in_is_a_422(
    people_app: FastAPI,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    denied: int,
    said: str,
) -> None:
    await deny(discord_sandbox, people.CHANNEL_A, denied)
    async with people.browser(people_app) as host:
        await people.log_in(host, discord_sandbox, people.HOST)
        response = await host.post("/api/v1/games", json=a_game())

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "channel_id"
    assert said in error["message"]
    assert "View Channel, Send Messages and Embed Links" in error["message"]
    if denied != VIEW_CHANNEL:
        assert "#games (710000000000000100)" in error["message"]
    assert game_count(session_factory) == 0


async def test_an_edit_is_refused_until_the_permission_is_back(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with admin(people_app) as client:
        created = await client.post("/api/v1/games", json=a_game())
        assert created.status_code == 201, created.text
        game = f"/api/v1/games/{created.json()['id']}"

        await deny(discord_sandbox, people.CHANNEL_A, SEND_MESSAGES)
        refused = await client.patch(game, json={"title": "Raid night, moved"})
        await deny(discord_sandbox, people.CHANNEL_A, 0)  # a server admin fixes the channel
        saved = await client.patch(game, json={"title": "Raid night, moved"})

    assert refused.status_code == 422
    assert "Send Messages" in refused.json()["error"]["message"]
    assert saved.status_code == 200  # asked afresh: no stale "cannot post"
    assert saved.json()["title"] == "Raid night, moved"


async def test_the_servers_own_roles_count_too(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    quiet = {
        "guild_id": "730000000000000001",
        "owner_id": people.OWNER,
        "channels": [{"id": "730000000000000100", "name": "announcements"}],
        # @everyone (the server's id) may read but not write: the bot has no role above it.
        "roles": [{"id": "730000000000000001", "permissions": str(VIEW_CHANNEL | EMBED_LINKS)}],
    }
    await people.configure(discord_sandbox, quiet)
    body = a_game(guild_id="730000000000000001", channel_id="730000000000000100")
    async with admin(people_app) as client:
        response = await client.post("/api/v1/games", json=body)

    assert response.status_code == 422
    assert "#announcements" in response.json()["error"]["message"]
    assert "it lacks Send Messages there" in response.json()["error"]["message"]


async def test_when_discord_does_not_answer_the_game_is_made_and_the_post_will_tell(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    await deny(discord_sandbox, people.CHANNEL_A, SEND_MESSAGES)
    await discord_sandbox.fault("GET /channels/*", status=503, count=5)
    async with admin(people_app) as client:
        response = await client.post("/api/v1/games", json=a_game())

    assert response.status_code == 201, response.text
    assert response.json()["post_error"] is None  # recorded by the bot when it tries


async def test_a_channel_of_another_server_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as host:
        await people.log_in(host, discord_sandbox, people.HOST)  # may host in A, not in B
        response = await host.post("/api/v1/games", json=a_game(channel_id=people.CHANNEL_B))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "channel_id"
    assert f"#games-b ({people.CHANNEL_B}) is in another server" in error["message"]
    assert game_count(session_factory) == 0


async def test_a_series_in_a_channel_the_bot_cannot_post_in_is_a_422(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    await deny(discord_sandbox, people.CHANNEL_A, SEND_MESSAGES)
    body = {
        **{k: v for k, v in a_game().items() if k not in ("scheduled_at", "reminder_minutes")},
        "rrule": "FREQ=WEEKLY;BYDAY=FR",
        "timezone": "Europe/Berlin",
        "local_start": "2031-03-21T20:00",
    }
    async with people.browser(people_app) as host:
        await people.log_in(host, discord_sandbox, people.HOST)
        response = await host.post("/api/v1/series", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "channel_id"
    assert "it lacks Send Messages there" in response.json()["error"]["message"]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(GameSeries)) == 0
    assert game_count(session_factory) == 0
