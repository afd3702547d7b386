"""An API app on this test's own database, and clients with and without the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.app import create_app
from game_scheduler.config import Settings
from game_scheduler.testing import FrozenClock
from tests.fixtures.sandbox import SandboxHandle

API_TOKEN = "test-token-" + "x" * 20
NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW + timedelta(days=2)
GUILD = "111111111111111111"
CHANNEL = "222222222222222222"
HOST = "333333333333333333"


def game_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body; keyword arguments replace or add fields."""
    body: dict[str, Any] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "host_id": HOST,
        "title": "Raid night",
        "scheduled_at": START.isoformat(),
    }
    body.update(overrides)
    return body


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock, frozen at NOW."""
    return FrozenClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings naming this test's database and the local broker."""
    return Settings(database_url=database_url, api_token=SecretStr(API_TOKEN))


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, session_factory: sessionmaker[Session]) -> FastAPI:
    """The API on this test's database."""
    return create_app(settings, clock=clock, session_factory=session_factory)


@pytest.fixture
async def people_app(
    database_url: str,
    discord_sandbox: SandboxHandle,
    clock: FrozenClock,
    session_factory: sessionmaker[Session],
) -> AsyncIterator[FastAPI]:
    """An API whose Discord is the sandbox, with servers A and B of tests/api/people.py."""
    from tests.api import people

    await people.configure(discord_sandbox, people.server_a())
    await people.configure(discord_sandbox, people.server_b())
    with session_factory.begin() as session:
        session.execute(
            text("INSERT INTO guild_settings (guild_id, host_role_ids) VALUES (:g, ARRAY[:r])"),
            {"g": int(people.GUILD_A), "r": int(people.HOST_ROLE)},
        )
    settings = people.people_settings(database_url, discord_sandbox)
    app = create_app(settings, clock=clock, session_factory=session_factory)
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test", headers=headers
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the right bearer token."""
    async with _client(app, {"Authorization": f"Bearer {API_TOKEN}"}) as c:
        yield c


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a token."""
    async with _client(app, {}) as c:
        yield c


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Create a game through the API and return its body."""
    response = await client.post("/api/v1/games", json=game_body(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def outbox_events(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """(event_type, payload game_id) of every outbox row, oldest first."""
    with sessions() as s:
        rows = s.execute(
            text("SELECT event_type, payload->>'game_id' FROM event_outbox ORDER BY created_at, id")
        )
        return [(r[0], r[1]) for r in rows]


def reminders(sessions: sessionmaker[Session], game_id: str) -> dict[int, datetime]:
    """The game's pending reminders: minutes before the start -> notification_time."""
    with sessions() as s:
        rows = s.execute(
            text(
                "SELECT reminder_minutes, notification_time FROM notification_schedule"
                " WHERE game_id = :g AND NOT sent"
            ),
            {"g": game_id},
        )
        return {r[0]: r[1] for r in rows}


def transitions(sessions: sessionmaker[Session], game_id: str) -> dict[str, datetime]:
    """The game's pending status changes: target_status -> transition_time."""
    with sessions() as s:
        rows = s.execute(
            text(
                "SELECT target_status, transition_time FROM game_status_schedule"
                " WHERE game_id = :g AND NOT executed"
            ),
            {"g": game_id},
        )
        return {r[0]: r[1] for r in rows}


def count_rows(sessions: sessionmaker[Session], table: str) -> int:
    """How many rows a table holds."""
    with sessions() as s:
        return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def start_game(sessions: sessionmaker[Session], game_id: str) -> None:
    """Put a game IN_PROGRESS directly, as the bot would at its start time."""
    with sessions.begin() as s:
        s.execute(
            text("UPDATE game_sessions SET status = 'IN_PROGRESS' WHERE id = :g"), {"g": game_id}
        )
