"""Two servers in the sandbox, their people, and logging each person in through OAuth2.

Server A has an owner, a host (the server's host role), a manager (a role with Manage
Events), and a plain member; server B has its own owner and an outsider, who is in B
only. `log_in` walks the real flow: /auth/login, the sandbox's authorize page with
`login_as`, /auth/callback, and returns the person's CSRF token from /api/v1/me.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from game_scheduler.config import Settings
from game_scheduler.domain.permissions import MANAGE_EVENTS
from tests.api.conftest import API_TOKEN
from tests.fixtures.sandbox import SandboxHandle

API_BASE_URL = "http://api.test"
SESSION_SECRET = "test-session-secret-" + "s" * 20

GUILD_A = "710000000000000001"
GUILD_B = "720000000000000001"
CHANNEL_A = "710000000000000100"
CHANNEL_B = "720000000000000100"
HOST_ROLE = "710000000000000010"
MANAGER_ROLE = "710000000000000020"

OWNER = "810000000000000001"
HOST = "810000000000000002"
MANAGER = "810000000000000003"
MEMBER = "810000000000000004"
OWNER_B = "820000000000000001"
OUTSIDER = "820000000000000002"


def server_a() -> dict[str, Any]:
    """Server A as POST /sandbox/guilds takes it."""
    return {
        "guild_id": GUILD_A,
        "name": "Server A",
        "owner_id": OWNER,
        "roles": [
            {"id": HOST_ROLE, "name": "Game host", "permissions": "0"},
            {"id": MANAGER_ROLE, "name": "Events", "permissions": str(MANAGE_EVENTS)},
        ],
        "members": [
            {"user_id": OWNER, "username": "owner", "roles": []},
            {"user_id": HOST, "username": "host", "roles": [HOST_ROLE]},
            {"user_id": MANAGER, "username": "manager", "roles": [MANAGER_ROLE]},
            {"user_id": MEMBER, "username": "member", "roles": []},
        ],
        "channels": [{"id": CHANNEL_A, "name": "games"}],
    }


def server_b() -> dict[str, Any]:
    """Server B, where only the outsider (and its owner) are members."""
    return {
        "guild_id": GUILD_B,
        "name": "Server B",
        "owner_id": OWNER_B,
        "roles": [],
        "members": [
            {"user_id": OWNER_B, "username": "owner-b", "roles": []},
            {"user_id": OUTSIDER, "username": "outsider", "roles": []},
        ],
        "channels": [{"id": CHANNEL_B, "name": "games-b"}],
    }


async def configure(sandbox: SandboxHandle, body: dict[str, Any]) -> None:
    """Create or replace a server in the sandbox."""
    async with sandbox.session.post(f"{sandbox.url}/sandbox/guilds", json=body) as response:
        assert response.status == 201, await response.text()


def people_settings(database_url: str, sandbox: SandboxHandle) -> Settings:
    """Settings for an API that logs people in through this sandbox."""
    return Settings(
        database_url=database_url,
        api_token=SecretStr(API_TOKEN),
        discord_api_base=sandbox.api_base,
        discord_web_base=sandbox.url,
        public_url=API_BASE_URL,
        session_secret=SecretStr(SESSION_SECRET),
    )


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies, as a browser does, and never follows redirects itself."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API_BASE_URL)


async def authorize(sandbox: SandboxHandle, authorize_url: str, user_id: str) -> str:
    """Approve at the sandbox's authorize page as `user_id`; returns the callback URL."""
    async with httpx.AsyncClient() as discord:
        response = await discord.get(f"{authorize_url}&login_as={user_id}")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def start_login(client: httpx.AsyncClient) -> str:
    """GET /auth/login; returns the authorize URL it redirects to."""
    response = await client.get("/auth/login")
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def finish_login(client: httpx.AsyncClient, callback_url: str) -> httpx.Response:
    """Follow the callback URL on the API, as the browser does."""
    parts = urlsplit(callback_url)
    return await client.get(f"{parts.path}?{parts.query}")


async def log_in(client: httpx.AsyncClient, sandbox: SandboxHandle, user_id: str) -> str:
    """Log a person in through the whole OAuth2 flow; returns their CSRF token."""
    callback = await authorize(sandbox, await start_login(client), user_id)
    response = await finish_login(client, callback)
    assert response.status_code == 302, response.text
    me = await client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    token: str = me.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token
