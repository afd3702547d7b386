"""A server's templates through the API: written by managers, used by the hosts allowed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tests.api import people
from tests.api.conftest import GUILD, count_rows
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

TEMPLATES = f"/api/v1/guilds/{GUILD}/templates"
OTHER_SERVER = "999999999999999999"


async def make(client: httpx.AsyncClient, path: str = TEMPLATES, **body: Any) -> dict[str, Any]:
    """Create a template and return its body."""
    response = await client.post(path, json={"name": "Raid night", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_template_is_made_read_listed_changed_and_deleted(
    client: httpx.AsyncClient,
) -> None:
    created = await make(
        client,
        channel_id="222222222222222222",
        title="Raid",
        description="Bring potions",
        max_players=8,
        expected_duration_minutes=180,
        reminder_minutes=[1440, 60],
        allowed_role_ids=["555555555555555555"],
    )
    assert created["channel_id"] == "222222222222222222"
    assert (created["title"], created["max_players"]) == ("Raid", 8)
    assert created["reminder_minutes"] == [1440, 60]
    assert created["allowed_role_ids"] == ["555555555555555555"]
    one = f"{TEMPLATES}/{created['id']}"

    assert (await client.get(one)).json()["description"] == "Bring potions"
    listed = (await client.get(TEMPLATES)).json()["items"]
    assert [t["name"] for t in listed] == ["Raid night"]

    changed = await client.patch(one, json={"max_players": 10, "reminder_minutes": []})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["max_players"], changed.json()["reminder_minutes"]) == (10, [])

    assert (await client.delete(one)).status_code == 204
    assert (await client.get(one)).status_code == 404


async def test_a_name_is_unique_in_a_server_ignoring_case(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    await make(client)
    again = await client.post(TEMPLATES, json={"name": "RAID NIGHT"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "template_name_taken"
    # Another server may use the same name.
    await make(client, f"/api/v1/guilds/{OTHER_SERVER}/templates")
    assert count_rows(session_factory, "game_templates") == 2


async def test_a_template_of_another_server_is_not_found_there(
    client: httpx.AsyncClient,
) -> None:
    created = await make(client)
    there = f"/api/v1/guilds/{OTHER_SERVER}/templates/{created['id']}"
    for response in (
        await client.get(there),
        await client.patch(there, json={"title": "Taken over"}),
        await client.delete(there),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "template_not_found"
    assert (await client.get(f"{TEMPLATES}/{created['id']}")).json()["title"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Seats", "max_players": 0}, "max_players"),
        ({"name": "Long", "expected_duration_minutes": 30 * 24 * 60}, "expected_duration_minutes"),
        ({"name": "Chatty", "reminder_minutes": list(range(1, 12))}, "reminder_minutes"),
        ({"name": "Roles", "allowed_role_ids": [str(10**17 + i) for i in range(26)]}, None),
        ({"name": "Typo", "seats": 4}, "seats"),
    ],
)
async def test_bad_templates_are_refused_and_nothing_is_made(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    body: dict[str, Any],
    field: str | None,
) -> None:
    response = await client.post(TEMPLATES, json=body)
    assert response.status_code == 422, response.text
    if field is not None:
        assert response.json()["error"]["field"] == field
    assert count_rows(session_factory, "game_templates") == 0


async def test_hosts_see_only_the_templates_their_roles_may_use(
    people_app: FastAPI, discord_sandbox: SandboxHandle
) -> None:
    path = f"/api/v1/guilds/{people.GUILD_A}/templates"
    async with people.browser(people_app) as manager, people.browser(people_app) as host:
        await people.log_in(manager, discord_sandbox, people.MANAGER)
        await people.log_in(host, discord_sandbox, people.HOST)
        await make(manager, path, name="Open to hosts")
        await make(manager, path, name="Game hosts only", allowed_role_ids=[people.HOST_ROLE])
        await make(manager, path, name="Events team only", allowed_role_ids=[people.MANAGER_ROLE])
        seen_by_host = [t["name"] for t in (await host.get(path)).json()["items"]]
        seen_by_manager = [t["name"] for t in (await manager.get(path)).json()["items"]]
        refused = await host.post(path, json={"name": "Mine"})
    assert seen_by_host == ["Game hosts only", "Open to hosts"]
    assert seen_by_manager == ["Events team only", "Game hosts only", "Open to hosts"]
    assert refused.status_code == 403
