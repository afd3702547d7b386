"""A new calendar URL through the API, and a server's Discord events settings."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.api import people
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

SETTINGS_A = f"/api/v1/guilds/{people.GUILD_A}/settings"


async def test_rotating_needs_the_csrf_token_and_the_old_url_then_404s(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as client:
        csrf = await people.log_in(client, discord_sandbox, people.MEMBER)
        old = urlsplit((await client.get("/api/v1/me")).json()["calendar_url"]).path
        assert (await client.get(old)).status_code == 200

        del client.headers["X-CSRF-Token"]
        refused = await client.patch("/api/v1/me", json={"rotate_calendar_token": True})
        assert refused.status_code == 403
        assert urlsplit((await client.get("/api/v1/me")).json()["calendar_url"]).path == old

        client.headers["X-CSRF-Token"] = csrf
        rotated = await client.patch("/api/v1/me", json={"rotate_calendar_token": True})
        assert rotated.status_code == 200
        new = urlsplit(rotated.json()["calendar_url"]).path
        gone = await client.get(old)
        unknown = await client.get("/calendar/" + "Z" * 43 + ".ics")

    assert new != old
    assert gone.status_code == 404
    assert gone.content == unknown.content  # no hint that it ever existed
    async with people.browser(people_app) as anyone:
        assert (await anyone.get(new)).status_code == 200


async def test_managers_turn_discord_events_off_and_see_why_they_failed(
    people_app: FastAPI, discord_sandbox: SandboxHandle, session_factory: sessionmaker[Session]
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.OWNER)
        before = (await client.get(SETTINGS_A)).json()
        off = await client.patch(SETTINGS_A, json={"scheduled_events_enabled": False})
        bad = await client.patch(SETTINGS_A, json={"scheduled_events_enabled": None})
        with session_factory.begin() as s:
            s.execute(text("UPDATE guild_settings SET scheduled_events_error = 'no Manage Events'"))
        after = (await client.get(SETTINGS_A)).json()
        readonly = await client.patch(SETTINGS_A, json={"scheduled_events_error": None})

    assert before["scheduled_events_enabled"] is True
    assert before["scheduled_events_error"] is None
    assert off.json()["scheduled_events_enabled"] is False
    assert bad.status_code == 422
    assert after["scheduled_events_error"] == "no Manage Events"
    assert readonly.status_code == 422
