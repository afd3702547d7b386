"""Logging in with Discord through the sandbox, end to end with the real HTTP clients."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

from tests.api import people
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


async def test_a_person_logs_in_and_sees_their_servers_and_rights(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as client:
        authorize_url = await people.start_login(client)
        query = parse_qs(urlsplit(authorize_url).query)
        assert authorize_url.startswith(f"{discord_sandbox.url}/oauth2/authorize?")
        assert query["scope"] == ["identify guilds"]
        assert query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [f"{people.API_BASE_URL}/auth/callback"]

        callback = await people.authorize(discord_sandbox, authorize_url, people.HOST)
        response = await people.finish_login(client, callback)
        assert response.status_code == 302
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert "gs_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()

        me = (await client.get("/api/v1/me")).json()

    assert me["user_id"] == people.HOST
    assert me["username"] == "host"
    assert me["csrf_token"]
    assert me["calendar_url"].startswith(f"{people.API_BASE_URL}/calendar/")
    assert me["guilds"] == [
        {"guild_id": people.GUILD_A, "name": "Server A", "can_host": True, "can_manage": False}
    ]


@pytest.mark.parametrize(
    ("user_id", "can_host", "can_manage"),
    [
        (people.OWNER, True, True),
        (people.MANAGER, True, True),
        (people.MEMBER, False, False),
    ],
)
async def test_rights_follow_the_owner_and_role_permissions(
    people_app: FastAPI,
    discord_sandbox: SandboxHandle,
    user_id: str,
    can_host: bool,
    can_manage: bool,
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, user_id)
        guilds = (await client.get("/api/v1/me")).json()["guilds"]

    assert [(g["guild_id"], g["can_host"], g["can_manage"]) for g in guilds] == [
        (people.GUILD_A, can_host, can_manage)
    ]
