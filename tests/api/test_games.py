"""Create, list, read, edit and cancel games through the API, against the real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import (
    GUILD,
    START,
    count_rows,
    create,
    game_body,
    outbox_events,
    reminders,
    start_game,
    transitions,
)

pytestmark = pytest.mark.integration


async def test_create_returns_the_game_and_schedules_it(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    response = await client.post(
        "/api/v1/games",
        json=game_body(max_players=4, reminder_minutes=[15, 60], where="Voice 1"),
    )

    assert response.status_code == 201
    game = response.json()
    assert response.headers["location"] == f"/api/v1/games/{game['id']}"
    assert game["guild_id"] == GUILD
    assert game["status"] == "SCHEDULED"
    assert game["max_players"] == 4
    assert game["reminder_minutes"] == [60, 15]
    assert game["where"] == "Voice 1"
    assert game["message_id"] is None
    assert game["confirmed"] == []
    assert game["waitlist"] == []
    assert datetime.fromisoformat(game["scheduled_at"]) == START
    assert outbox_events(session_factory) == [("game.created", game["id"])]
    assert reminders(session_factory, game["id"]) == {
        60: START - timedelta(minutes=60),
        15: START - timedelta(minutes=15),
    }
    assert transitions(session_factory, game["id"]) == {
        "IN_PROGRESS": START,
        "COMPLETED": START + timedelta(minutes=60),
    }


async def test_create_accepts_integer_snowflakes_and_answers_with_strings(
    client: httpx.AsyncClient,
) -> None:
    game = await create(client, guild_id=int(GUILD), host_id=9223372036854775807)

    assert game["guild_id"] == GUILD
    assert game["host_id"] == "9223372036854775807"


async def test_get_returns_one_game(client: httpx.AsyncClient) -> None:
    game = await create(client)

    response = await client.get(f"/api/v1/games/{game['id']}")

    assert response.status_code == 200
    assert response.json() == game


async def test_get_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/games/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "game_not_found"


async def test_get_with_a_malformed_id_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/games/not-a-uuid")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "game_id"


async def test_list_pages_through_games_in_start_order_with_filters(
    client: httpx.AsyncClient,
) -> None:
    created = [
        await create(client, scheduled_at=(START + timedelta(hours=h)).isoformat())
        for h in (3, 1, 2, 0, 4)
    ]
    await create(client, guild_id="999")
    expected = sorted(created, key=lambda g: g["scheduled_at"])

    seen: list[dict[str, object]] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, str | int] = {"guild_id": GUILD, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/games", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [g["id"] for g in seen] == [g["id"] for g in expected]


async def test_list_filters_by_status(client: httpx.AsyncClient) -> None:
    kept = await create(client)
    cancelled = await create(client)
    await client.delete(f"/api/v1/games/{cancelled['id']}")

    scheduled = (await client.get("/api/v1/games", params={"status": "SCHEDULED"})).json()
    gone = (await client.get("/api/v1/games", params={"status": "CANCELLED"})).json()

    assert [g["id"] for g in scheduled["items"]] == [kept["id"]]
    assert [g["id"] for g in gone["items"]] == [cancelled["id"]]
    assert scheduled["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"status": "PAUSED"}, "status"),
        ({"guild_id": "abc"}, "guild_id"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_list_rejects_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/v1/games", params=params)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_patch_moves_the_schedule_and_announces_it(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    later = START + timedelta(days=1)

    response = await client.patch(
        f"/api/v1/games/{game['id']}",
        json={"scheduled_at": later.isoformat(), "reminder_minutes": [30], "title": "Raid 2"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Raid 2"
    assert datetime.fromisoformat(body["scheduled_at"]) == later
    assert reminders(session_factory, game["id"]) == {30: later - timedelta(minutes=30)}
    assert transitions(session_factory, game["id"])["IN_PROGRESS"] == later
    assert outbox_events(session_factory)[-1] == ("game.updated", game["id"])


async def test_patch_can_clear_an_optional_field(client: httpx.AsyncClient) -> None:
    game = await create(client, description="bring snacks", max_players=3)

    response = await client.patch(
        f"/api/v1/games/{game['id']}", json={"description": None, "max_players": None}
    )

    assert response.status_code == 200
    assert response.json()["description"] is None
    assert response.json()["max_players"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": None}, "title"),
        ({"scheduled_at": None}, "scheduled_at"),
        ({"status": "COMPLETED"}, "status"),
        ({"host_id": "1"}, "host_id"),
        ({}, None),
    ],
)
async def test_patch_rejects_what_cannot_change(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    body: dict[str, object],
    field: str | None,
) -> None:
    game = await create(client)

    response = await client.patch(f"/api/v1/games/{game['id']}", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert outbox_events(session_factory) == [("game.created", game["id"])]


async def test_patch_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/api/v1/games/00000000-0000-0000-0000-000000000000", json={"title": "x"}
    )

    assert response.status_code == 404


async def test_patch_a_cancelled_game_is_409_saying_why(client: httpx.AsyncClient) -> None:
    game = await create(client)
    await client.delete(f"/api/v1/games/{game['id']}")

    response = await client.patch(f"/api/v1/games/{game['id']}", json={"title": "x"})

    assert response.status_code == 409
    assert "cancelled" in response.json()["error"]["message"]


async def test_delete_cancels_and_drops_the_schedule(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)

    response = await client.delete(f"/api/v1/games/{game['id']}")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert reminders(session_factory, game["id"]) == {}
    assert transitions(session_factory, game["id"]) == {}
    assert outbox_events(session_factory)[-1] == ("game.cancelled", game["id"])


async def test_cancel_twice_is_409_saying_why(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    await client.delete(f"/api/v1/games/{game['id']}")

    response = await client.delete(f"/api/v1/games/{game['id']}")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "transition_not_allowed"
    assert "already cancelled" in error["message"]
    assert count_rows(session_factory, "event_outbox") == 2


async def test_delete_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/games/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404


async def test_a_started_game_can_be_retitled_but_not_moved(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    start_game(session_factory, game["id"])
    url = f"/api/v1/games/{game['id']}"

    retitled = await client.patch(url, json={"title": "Raid night, overtime"})
    moved = await client.patch(url, json={"scheduled_at": (START + timedelta(1)).isoformat()})

    assert retitled.status_code == 200
    assert retitled.json()["title"] == "Raid night, overtime"
    assert moved.status_code == 409
    assert moved.json()["error"]["message"] == (
        "cannot change the start time or reminders: the game is in progress"
    )
