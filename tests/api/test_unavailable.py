"""A database blip is a 503 with Retry-After that is safe to repeat, not a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.app import create_app
from game_scheduler.config import Settings, to_libpq_url
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.testing import FrozenClock
from tests.api.conftest import API_TOKEN, game_body

pytestmark = pytest.mark.integration


class BackendKiller:
    """Terminates the session's PostgreSQL backend just before its next INSERT of a game."""

    def __init__(self, engine: Engine, database_url: str) -> None:
        self.armed = False
        self._admin_url = to_libpq_url(database_url)
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.armed or not statement.startswith("INSERT INTO game_sessions"):
            return
        self.armed = False
        pid = conn.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(self._admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The engine the API uses in production: pre-ping on, which cannot catch a mid-request cut."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def killer(engine: Engine, database_url: str) -> BackendKiller:
    """Arm it to cut the next create's connection."""
    return BackendKiller(engine, database_url)


@pytest.fixture
def blip_app(database_url: str, engine: Engine, clock: FrozenClock) -> FastAPI:
    """The API on an engine whose connection the test can cut mid-request."""
    settings = Settings(database_url=database_url, api_token=SecretStr(API_TOKEN))
    sessions: sessionmaker[Session] = make_session_factory(engine)
    return create_app(settings, clock=clock, session_factory=sessions)


async def test_a_backend_terminated_mid_create_answers_503_and_the_repeat_creates_one_game(
    blip_app: FastAPI, killer: BackendKiller, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=blip_app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api.test", headers=headers
    ) as client:
        body = game_body(title="Blip night")
        killer.armed = True
        cut = await client.post("/api/v1/games", json=body)
        assert cut.status_code == 503, cut.text
        assert cut.headers["Retry-After"].isdigit()
        error = cut.json()["error"]
        assert error["code"] == "service_unavailable"
        assert "can be repeated safely" in error["message"]
        assert "Traceback" not in caplog.text

        repeated = await client.post("/api/v1/games", json=body)
        assert repeated.status_code == 201, repeated.text
        games = (await client.get("/api/v1/games")).json()["items"]
        assert [g["title"] for g in games] == ["Blip night"]
