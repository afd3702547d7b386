"""Server settings and personal settings, as the people allowed to change them see them."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.api import people
from tests.api.conftest import START
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

SETTINGS_A = f"/api/v1/guilds/{people.GUILD_A}/settings"


async def test_taking_away_the_host_role_applies_at_once(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as manager, people.browser(people_app) as host:
        await people.log_in(manager, discord_sandbox, people.MANAGER)
        await people.log_in(host, discord_sandbox, people.HOST)
        before = (await host.get("/api/v1/me")).json()["guilds"][0]["can_host"]
        changed = await manager.patch(SETTINGS_A, json={"host_role_ids": []})
        after = (await host.get("/api/v1/me")).json()["guilds"][0]["can_host"]
        back = await manager.patch(SETTINGS_A, json={"host_role_ids": [people.HOST_ROLE]})

    assert before is True
    assert changed.status_code == 200
    assert changed.json()["host_role_ids"] == []
    assert after is False
    assert back.json()["host_role_ids"] == [people.HOST_ROLE]


async def test_new_games_take_the_servers_defaults(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.OWNER)
        read = (await client.get(SETTINGS_A)).json()
        patched = await client.patch(
            SETTINGS_A,
            json={
                "timezone": "Europe/Berlin",
                "default_reminder_minutes": [30],
                "default_duration_minutes": 120,
                "default_channel_id": people.CHANNEL_A,
            },
        )
        game = await client.post(
            "/api/v1/games",
            json={
                "guild_id": people.GUILD_A,
                "channel_id": people.CHANNEL_A,
                "host_id": people.OWNER,
                "title": "Defaults",
                "scheduled_at": START.isoformat(),
            },
        )
        explicit = await client.post(
            "/api/v1/games",
            json={
                "guild_id": people.GUILD_A,
                "channel_id": people.CHANNEL_A,
                "host_id": people.OWNER,
                "title": "Explicit",
                "scheduled_at": START.isoformat(),
                "reminder_minutes": [],
            },
        )

    assert read["timezone"] == "UTC"
    assert read["host_role_ids"] == [people.HOST_ROLE]
    assert patched.status_code == 200, patched.text
    assert patched.json()["timezone"] == "Europe/Berlin"
    assert patched.json()["default_channel_id"] == people.CHANNEL_A
    assert game.json()["reminder_minutes"] == [30]
    assert game.json()["expected_duration_minutes"] == 120
    assert explicit.json()["reminder_minutes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"host_role_ids": ["abc"]}, "host_role_ids[0]"),
        ({"default_reminder_minutes": [0]}, "default_reminder_minutes[0]"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_server_settings_are_refused_and_change_nothing(
    people_app: FastAPI, discord_sandbox: SandboxHandle, body: dict[str, object], field: str
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.OWNER)
        response = await client.patch(SETTINGS_A, json=body)
        after = (await client.get(SETTINGS_A)).json()

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert after["timezone"] == "UTC"


async def test_my_time_zone_reminders_and_a_new_calendar_url(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    async with people.browser(people_app) as client:
        await people.log_in(client, discord_sandbox, people.MEMBER)
        before = (await client.get("/api/v1/me")).json()
        changed = await client.patch(
            "/api/v1/me",
            json={"timezone": "America/New_York", "dm_reminders": False},
        )
        rotated = await client.patch("/api/v1/me", json={"rotate_calendar_token": True})
        bad = await client.patch("/api/v1/me", json={"timezone": "Nowhere/Land"})
        cleared = await client.patch("/api/v1/me", json={"timezone": None})

    assert before["timezone"] is None
    assert before["dm_reminders"] is True
    assert changed.json()["timezone"] == "America/New_York"
    assert changed.json()["dm_reminders"] is False
    assert changed.json()["calendar_url"] == before["calendar_url"]
    assert rotated.json()["calendar_url"] != before["calendar_url"]
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "timezone"
    assert cleared.json()["timezone"] is None
