"""Malformed create requests: always a 422 naming the field (or the body), never a 500."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import NOW, START, count_rows, game_body

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"title": ""}, "title", "at least 1 character"),
        ({"title": "   "}, "title", "1 to 200"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"title": None}, "title", "string"),
        ({"title": 5}, "title", "string"),
        ({"title": "a\x00b"}, "title", "NUL"),
        ({"description": "\ud800"}, "description", "unicode"),
        ({"scheduled_at": "2030-06-01T19:00:00"}, "scheduled_at", "timezone offset"),
        ({"scheduled_at": "tomorrow"}, "scheduled_at", "ISO 8601"),
        ({"scheduled_at": (NOW - timedelta(minutes=1)).isoformat()}, "scheduled_at", "future"),
        ({"scheduled_at": "9999-12-31T23:59:59-14:00"}, "scheduled_at", "5 years"),
        ({"scheduled_at": "0001-01-01T00:00:00+14:00"}, "scheduled_at", "future"),
        ({"guild_id": "-1"}, "guild_id", "Discord id"),
        ({"guild_id": 10**30}, "guild_id", "Discord id"),
        ({"guild_id": 1.5}, "guild_id", "Discord id"),
        ({"channel_id": None}, "channel_id", "Discord id"),
        ({"max_players": 0}, "max_players", "greater than or equal to 1"),
        ({"max_players": 101}, "max_players", "less than or equal to 100"),
        ({"max_players": "4"}, "max_players", "whole number"),
        ({"max_players": 10**40}, "max_players", "100"),
        ({"expected_duration_minutes": 0}, "expected_duration_minutes", "1"),
        ({"reminder_minutes": [15, 15]}, "reminder_minutes", "repeat"),
        ({"reminder_minutes": [0]}, "reminder_minutes[0]", "1"),
        ({"reminder_minutes": [10_081]}, "reminder_minutes[0]", "10080"),
        ({"reminder_minutes": None}, "reminder_minutes", "list"),
        ({"reminder_minutes": list(range(1, 12))}, "reminder_minutes", "at most 10"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)
async def test_create_rejects_a_bad_field_naming_it(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    overrides: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    # json.dumps escapes a lone surrogate as \ud800, which httpx's own encoder refuses.
    response = await client.post(
        "/api/v1/games",
        content=json.dumps(game_body(**overrides)),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_field"
    assert error["field"] == field
    assert reason in error["message"]
    assert count_rows(session_factory, "game_sessions") == 0
    assert count_rows(session_factory, "event_outbox") == 0


async def test_a_missing_field_is_named(client: httpx.AsyncClient) -> None:
    body = game_body()
    del body["title"]

    response = await client.post("/api/v1/games", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "title: is required"


async def test_every_bad_field_is_listed(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/games", json=game_body(title="", max_players=0))

    fields = {e["field"] for e in response.json()["error"]["errors"]}
    assert fields == {"title", "max_players"}


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b"", {"content-type": "application/json"}),
        (b"[1, 2]", {"content-type": "application/json"}),
        (b"null", {"content-type": "application/json"}),
        (b"title=x", {"content-type": "application/x-www-form-urlencoded"}),
        (b"\xff\xfe", {"content-type": "text/plain"}),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_422(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    content: bytes,
    headers: dict[str, str],
) -> None:
    response = await client.post("/api/v1/games", content=content, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
    assert count_rows(session_factory, "game_sessions") == 0


async def test_times_with_any_offset_are_stored_in_utc(client: httpx.AsyncClient) -> None:
    # +23:59 is valid ISO 8601 but outside what PostgreSQL accepts as an offset.
    local = START.astimezone().replace(tzinfo=None).isoformat() + "+23:59"

    response = await client.post("/api/v1/games", json=game_body(scheduled_at=local))

    assert response.status_code == 201, response.text
    assert response.json()["scheduled_at"].endswith("Z")
