"""Guild scheduled events through discord.py's own HTTP calls, checked as Discord checks them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from tests.fixtures.sandbox import SandboxHandle

GUILD_ID = 700_000_000_000_000_001


def event_body(**overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    body: dict[str, Any] = {
        "name": "Catan night",
        "privacy_level": 2,
        "entity_type": 3,
        "entity_metadata": {"location": "Table 3"},
        "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": (start + timedelta(hours=2)).isoformat(),
        "description": "Sign up: https://example.test/game",
    }
    body.update(overrides)
    return body


async def create(client: discord.Client, **overrides: Any) -> dict[str, Any]:
    created = await client.http.create_guild_scheduled_event(GUILD_ID, **event_body(**overrides))
    return dict(created)


async def test_create_edit_list_and_delete(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    created = await create(discord_client)
    assert created["status"] == 1
    assert created["entity_metadata"] == {"location": "Table 3"}

    edited = await discord_client.http.edit_scheduled_event(
        GUILD_ID, created["id"], name="Catan night (moved)", entity_metadata={"location": "Café"}
    )
    assert edited["name"] == "Catan night (moved)"
    listed = await discord_client.http.get_scheduled_events(GUILD_ID, False)
    assert [e["id"] for e in listed] == [created["id"]]
    [shown] = (await discord_sandbox.state())["scheduled_events"][str(GUILD_ID)]
    assert shown["entity_metadata"]["location"] == "Café"
    assert shown["edits"] == 1

    await discord_client.http.delete_scheduled_event(GUILD_ID, created["id"])
    assert await discord_client.http.get_scheduled_events(GUILD_ID, False) == []
    with pytest.raises(discord.NotFound) as missing:
        await discord_client.http.get_scheduled_event(GUILD_ID, created["id"], False)
    assert missing.value.code == 10070


async def test_status_goes_scheduled_active_completed_and_no_further(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    event = await create(discord_client)
    http = discord_client.http
    with pytest.raises(discord.HTTPException):
        await http.edit_scheduled_event(GUILD_ID, event["id"], status=3)  # not from SCHEDULED
    assert (await http.edit_scheduled_event(GUILD_ID, event["id"], status=2))["status"] == 2
    assert (await http.edit_scheduled_event(GUILD_ID, event["id"], status=3))["status"] == 3
    with pytest.raises(discord.HTTPException) as finished:
        await http.edit_scheduled_event(GUILD_ID, event["id"], name="again")
    assert finished.value.code == 180000
    # Finished events leave the list, as in Discord, but the sandbox state keeps them.
    assert await http.get_scheduled_events(GUILD_ID, False) == []
    [kept] = (await discord_sandbox.state())["scheduled_events"][str(GUILD_ID)]
    assert kept["status"] == 3


async def test_a_scheduled_event_can_be_cancelled(discord_client: discord.Client) -> None:
    event = await create(discord_client)
    done = await discord_client.http.edit_scheduled_event(GUILD_ID, event["id"], status=4)
    assert done["status"] == 4


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scheduled_start_time": "2001-01-01T00:00:00+00:00"}, "scheduled_start_time"),
        ({"scheduled_end_time": "2001-01-01T00:00:00+00:00"}, "scheduled_end_time"),
        ({"scheduled_end_time": None}, "scheduled_end_time"),
        ({"entity_metadata": {}}, "entity_metadata"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"description": "x" * 1001}, "description"),
        ({"privacy_level": 1}, "privacy_level"),
    ],
)
async def test_discord_refuses_what_it_refuses(
    discord_client: discord.Client, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(discord.HTTPException) as refused:
        await create(discord_client, **overrides)
    assert refused.value.status == 400
    assert refused.value.code == 50035
    assert field in str(refused.value)


async def test_an_edit_cannot_move_the_start_into_the_past(discord_client: discord.Client) -> None:
    event = await create(discord_client)
    with pytest.raises(discord.HTTPException) as refused:
        await discord_client.http.edit_scheduled_event(
            GUILD_ID, event["id"], scheduled_start_time="2001-01-01T00:00:00+00:00"
        )
    assert refused.value.code == 50035


async def test_at_most_100_unfinished_events_per_server(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    store = discord_sandbox.state_object.scheduled_events
    for _ in range(100):
        store.create(GUILD_ID, event_body())
    with pytest.raises(discord.HTTPException) as refused:
        await create(discord_client)
    assert refused.value.code == 30038
    other = await discord_client.http.create_guild_scheduled_event(GUILD_ID + 1, **event_body())
    assert other["guild_id"] == str(GUILD_ID + 1)


async def test_a_fault_answers_missing_permissions(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    await discord_sandbox.fault("POST /guilds/*/scheduled-events", 403, code=50013)
    with pytest.raises(discord.Forbidden) as refused:
        await create(discord_client)
    assert refused.value.code == 50013


async def test_the_page_shows_the_events(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    await create(discord_client, name="Dragons & <dice>")
    async with discord_sandbox.session.get(discord_sandbox.url + "/") as response:
        page = await response.text()
    assert f"Events of server {GUILD_ID}" in page
    assert "Dragons &amp; &lt;dice&gt;" in page
