"""The sandbox's configured servers and its OAuth2, as Discord answers them."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from game_scheduler.config import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from game_scheduler.domain.permissions import MANAGE_EVENTS
from game_scheduler.sandbox.guilds import DEFAULT_EVERYONE
from tests.fixtures.sandbox import SandboxHandle

GUILD = "710000000000000001"
ROLE = "710000000000000010"
OWNER = "810000000000000001"
MEMBER = "810000000000000004"
STRANGER = "890000000000000009"
REDIRECT = "http://app.test/auth/callback"
VERIFIER = "v" * 50
BOT = {"Authorization": "Bot sandbox-token"}


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def _configure(sandbox: SandboxHandle, **overrides: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "guild_id": GUILD,
        "name": "Server A",
        "owner_id": OWNER,
        "roles": [{"id": ROLE, "name": "Events", "permissions": str(MANAGE_EVENTS)}],
        "members": [
            {"user_id": OWNER, "username": "olivia", "roles": []},
            {"user_id": MEMBER, "username": "mia", "roles": [ROLE]},
        ],
        "channels": [{"id": "710000000000000100", "name": "games"}],
    }
    body.update(overrides)
    async with httpx.AsyncClient() as client:
        return await client.post(f"{sandbox.url}/sandbox/guilds", json=body)


async def _code(sandbox: SandboxHandle, user_id: str, *, challenge: str | None = None) -> str:
    query = {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "identify guilds",
        "state": "s1",
        "code_challenge": challenge or _challenge(VERIFIER),
        "code_challenge_method": "S256",
        "login_as": user_id,
    }
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sandbox.url}/oauth2/authorize?{urlencode(query)}")
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    back = parse_qs(urlsplit(location).query)
    assert back["state"] == ["s1"]
    return back["code"][0]


async def _token(sandbox: SandboxHandle, **form: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{sandbox.api_base}/oauth2/token",
            data=form,
            auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
        )


async def _exchange(sandbox: SandboxHandle, code: str, verifier: str = VERIFIER) -> httpx.Response:
    return await _token(
        sandbox,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )


async def test_a_configured_server_answers_member_and_role_lookups(
    discord_sandbox: SandboxHandle,
) -> None:
    assert (await _configure(discord_sandbox)).status_code == 201
    async with httpx.AsyncClient(base_url=discord_sandbox.api_base, headers=BOT) as client:
        guild = (await client.get(f"/guilds/{GUILD}")).json()
        member = (await client.get(f"/guilds/{GUILD}/members/{MEMBER}")).json()
        stranger = await client.get(f"/guilds/{GUILD}/members/{STRANGER}")
        roles = (await client.get(f"/guilds/{GUILD}/roles")).json()
        bot_guilds = (await client.get("/users/@me/guilds")).json()

    assert guild["name"] == "Server A"
    assert guild["owner_id"] == OWNER
    assert member["user"]["username"] == "mia"
    assert member["roles"] == [ROLE]
    assert stranger.status_code == 404
    assert stranger.json() == {"message": "Unknown Member", "code": 10007}
    assert {r["id"]: r["permissions"] for r in roles} == {
        GUILD: str(DEFAULT_EVERYONE),
        ROLE: str(MANAGE_EVENTS),
    }
    assert GUILD in [g["id"] for g in bot_guilds]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"guild_id": "abc"}, "guild_id must be a Discord id"),
        ({"members": [{"user_id": MEMBER, "roles": ["999"]}]}, "roles the guild lacks"),
        ({"roles": [{"id": ROLE, "permissions": "lots"}]}, "decimal bit-set"),
    ],
)
async def test_a_server_that_makes_no_sense_is_refused(
    discord_sandbox: SandboxHandle, overrides: dict[str, Any], message: str
) -> None:
    response = await _configure(discord_sandbox, **overrides)

    assert response.status_code == 400
    assert message in response.json()["error"]


async def test_the_authorize_page_lists_the_people_to_log_in_as(
    discord_sandbox: SandboxHandle,
) -> None:
    await _configure(discord_sandbox)
    query = {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "identify guilds",
    }
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{discord_sandbox.url}/oauth2/authorize?{urlencode(query)}")

    assert page.status_code == 200
    assert "Log in as mia" in page.text
    assert f"login_as={MEMBER}" in page.text


async def test_a_code_with_its_verifier_gives_the_persons_tokens(
    discord_sandbox: SandboxHandle,
) -> None:
    await _configure(discord_sandbox)
    tokens = (await _exchange(discord_sandbox, await _code(discord_sandbox, MEMBER))).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with httpx.AsyncClient(base_url=discord_sandbox.api_base, headers=bearer) as client:
        me = (await client.get("/users/@me")).json()
        guilds = (await client.get("/users/@me/guilds")).json()

    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "guilds identify"
    assert me["id"] == MEMBER
    assert me["username"] == "mia"
    assert guilds == [
        {
            "id": GUILD,
            "name": "Server A",
            "icon": None,
            "banner": None,
            "owner": False,
            "permissions": str(MANAGE_EVENTS | DEFAULT_EVERYONE),
            "features": [],
        }
    ]


async def test_a_wrong_verifier_a_reused_code_and_a_reused_refresh_token_are_refused(
    discord_sandbox: SandboxHandle,
) -> None:
    await _configure(discord_sandbox)
    wrong_verifier = await _exchange(
        discord_sandbox, await _code(discord_sandbox, MEMBER), verifier="w" * 50
    )
    code = await _code(discord_sandbox, MEMBER)
    first = await _exchange(discord_sandbox, code)
    second = await _exchange(discord_sandbox, code)
    refresh_token = (await _exchange(discord_sandbox, await _code(discord_sandbox, MEMBER))).json()[
        "refresh_token"
    ]
    refreshed = await _token(
        discord_sandbox, grant_type="refresh_token", refresh_token=refresh_token
    )
    refreshed_again = await _token(
        discord_sandbox, grant_type="refresh_token", refresh_token=refresh_token
    )
    async with httpx.AsyncClient(base_url=discord_sandbox.api_base) as client:
        revoked = await client.get(
            "/users/@me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
        )

    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert revoked.status_code == 401  # the reused code revoked what it had given
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != refresh_token
    assert refreshed_again.status_code == 400


async def test_a_wrong_client_secret_is_refused(discord_sandbox: SandboxHandle) -> None:
    code = await _code(discord_sandbox, MEMBER)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{discord_sandbox.api_base}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=(SANDBOX_CLIENT_ID, "wrong"),
        )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_the_command_line_sandbox_starts_with_the_demo_server() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from game_scheduler.sandbox.app import create_app

    async with TestClient(TestServer(create_app(seed_demo=True))) as client:
        servers = await (await client.get("/sandbox/guilds")).json()
        page = await (await client.get(f"/oauth2/authorize?{urlencode(_chooser_query())}")).text()

    assert [s["name"] for s in servers] == ["Demo Server"]
    assert {m["username"] for m in servers[0]["members"]} >= {"Olivia (owner)", "Hugo (host)"}
    assert "Log in as Hugo (host)" in page


def _chooser_query() -> dict[str, str]:
    return {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "identify guilds",
    }
