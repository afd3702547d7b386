"""Attacks on login and sessions: each is refused, and none of them changes anything."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.config import SANDBOX_CLIENT_SECRET
from game_scheduler.testing import FrozenClock
from tests.api import people
from tests.api.conftest import count_rows, game_body
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


def _state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def _with_query(callback_url: str, **values: str) -> str:
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
    query.update(values)
    return "/auth/callback?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_a_wrong_state_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        callback = await people.authorize(
            discord_sandbox, await people.start_login(client), people.HOST
        )
        response = await client.get(_with_query(callback, state="forged-state"))

    assert response.status_code == 400
    assert "state does not match" in response.json()["error"]["message"]
    assert count_rows(session_factory, "web_sessions") == 0


async def test_a_missing_state_or_login_cookie_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        callback = await people.authorize(
            discord_sandbox, await people.start_login(client), people.HOST
        )
        without_state = await client.get(
            "/auth/callback?code=" + parse_qs(urlsplit(callback).query)["code"][0]
        )
    async with people.browser(people_app) as stranger:  # no gs_login cookie at all
        without_cookie = await people.finish_login(stranger, callback)

    assert without_state.status_code == 400
    assert without_cookie.status_code == 400
    assert count_rows(session_factory, "web_sessions") == 0


async def test_a_replayed_callback_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        callback = await people.authorize(
            discord_sandbox, await people.start_login(client), people.HOST
        )
        first = await people.finish_login(client, callback)
        replay = await people.finish_login(client, callback)

    assert first.status_code == 302
    assert replay.status_code == 400
    assert count_rows(session_factory, "web_sessions") == 1


async def test_a_code_used_twice_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        callback = await people.authorize(
            discord_sandbox, await people.start_login(client), people.HOST
        )
        assert (await people.finish_login(client, callback)).status_code == 302
        # A new login gives a fresh state, so only the spent code can be refused.
        fresh_state = _state_of(await people.start_login(client))
        again = await client.get(_with_query(callback, state=fresh_state))

    assert again.status_code == 400
    assert count_rows(session_factory, "web_sessions") == 1


async def test_a_code_for_another_pkce_challenge_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    """A code stolen from a victim's login, injected into the attacker's own login."""
    async with people.browser(people_app) as victim, people.browser(people_app) as attacker:
        stolen = await people.authorize(
            discord_sandbox, await people.start_login(victim), people.MANAGER
        )
        attacker_state = _state_of(await people.start_login(attacker))
        response = await attacker.get(_with_query(stolen, state=attacker_state))

    assert response.status_code == 400
    assert count_rows(session_factory, "web_sessions") == 0


async def test_a_logged_out_session_opens_nothing(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as client:
        csrf = await people.log_in(client, discord_sandbox, people.HOST)
        cookie = client.cookies["gs_session"]
        logout = await client.post("/auth/logout", data={"csrf_token": csrf})
        assert logout.status_code == 303
    async with people.browser(people_app) as thief:
        thief.cookies.set("gs_session", cookie)
        response = await thief.get("/api/v1/me")

    assert response.status_code == 401
    assert "log in again" in response.json()["error"]["message"]


async def test_an_expired_session_opens_nothing(
    people_app: FastAPI, discord_sandbox: SandboxHandle, clock: FrozenClock
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.HOST)
        clock.advance(timedelta(days=8))
        response = await client.get("/api/v1/me")

    assert response.status_code == 401


@pytest.mark.parametrize("forge", ["random", "tampered", "other secret"])
async def test_a_forged_or_tampered_cookie_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, forge: str
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.HOST)
        real = client.cookies["gs_session"]
    token = URLSafeTimedSerializer(people.SESSION_SECRET, salt="gs_session").loads(real)
    forged = {
        "random": "not-a-session",
        "tampered": real[:-3] + ("AAA" if not real.endswith("AAA") else "BBB"),
        "other secret": URLSafeTimedSerializer("x" * 32, salt="gs_session").dumps(token),
    }[forge]
    async with people.browser(people_app) as thief:
        thief.cookies.set("gs_session", forged)
        response = await thief.get("/api/v1/me")

    assert response.status_code == 401


async def test_a_change_without_the_csrf_token_is_refused(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.HOST)
        body = game_body(guild_id=people.GUILD_A, channel_id=people.CHANNEL_A, host_id=people.HOST)
        del client.headers["X-CSRF-Token"]
        missing = await client.post("/api/v1/games", json=body)
        wrong = await client.post("/api/v1/games", json=body, headers={"X-CSRF-Token": "nope"})
        logout = await client.post("/auth/logout")
        still_in = await client.get("/api/v1/me")

    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "csrf_failed"
    assert wrong.status_code == 403
    assert logout.status_code == 403
    assert still_in.status_code == 200
    assert count_rows(session_factory, "game_sessions") == 0


async def test_no_secret_reaches_logs_or_answers(
    people_app: FastAPI,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[httpx.Response] = []
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.HOST)
        cookie = client.cookies["gs_session"]
        answers.append(await client.get("/api/v1/me"))
        answers.append(await client.post("/api/v1/games", json={}, headers={"X-CSRF-Token": "x"}))
        answers.append(await client.get("/auth/callback?code=bad&state=bad"))
    with session_factory() as session:
        from sqlalchemy import text

        access_token = session.execute(text("SELECT access_token FROM web_sessions")).scalar_one()
    secrets = [SANDBOX_CLIENT_SECRET, people.SESSION_SECRET, cookie, access_token]
    seen = caplog.text + "".join(a.text for a in answers)
    assert [s for s in secrets if s in seen] == []
