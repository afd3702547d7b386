"""The dashboard on this test's database, with a person signed in as a test chooses."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.app import create_app
from game_scheduler.config import Settings
from game_scheduler.domain.permissions import Rights
from game_scheduler.testing import FrozenClock
from game_scheduler.web.viewer import Named, ServerAccess, Viewer

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
GUILD = 111_111_111_111_111_111
OTHER_GUILD = 999_999_999_999_999_999
CHANNEL = 222_222_222_222_222_222
HOST = 333_333_333_333_333_333
MEMBER = 444_444_444_444_444_444
CSRF = "csrf-" + "y" * 30

HOST_VIEWER = Viewer(
    user_id=HOST,
    username="hana",
    csrf_token=CSRF,
    timezone="Europe/Berlin",
    servers=(ServerAccess(GUILD, "Board Gamers", Rights(can_host=True, can_manage=False)),),
)
MEMBER_VIEWER = Viewer(
    user_id=MEMBER,
    username="milo",
    csrf_token=CSRF,
    servers=(ServerAccess(GUILD, "Board Gamers", Rights(can_host=False, can_manage=False)),),
)


class StaticDirectory:
    """What Discord knows about the test server, fixed."""

    def channels(self, guild_id: int) -> list[Named]:
        return [Named(CHANNEL, "game-nights")] if guild_id == GUILD else []

    def roles(self, guild_id: int) -> list[Named]:
        return [Named(555, "Game Master")] if guild_id == GUILD else []

    def member_names(self, guild_id: int, user_ids: Iterable[int]) -> Mapping[int, str]:
        known = {HOST: "hana", MEMBER: "milo"}
        return {u: known[u] for u in user_ids if u in known}


class Signed:
    """Who the dashboard thinks is signed in; a test switches it."""

    viewer: Viewer | None = None

    def __call__(self, request: Request) -> Viewer | None:
        return self.viewer


@pytest.fixture
def signed_in() -> Signed:
    """Switch the signed-in person: `signed_in.viewer = HOST_VIEWER`."""
    return Signed()


@pytest.fixture
def web_app(
    database_url: str, session_factory: sessionmaker[Session], signed_in: Signed
) -> FastAPI:
    """The API app with its dashboard, on this test's database, the clock frozen."""
    settings = Settings(database_url=database_url, api_token=SecretStr("t" * 32))
    app = create_app(settings, clock=FrozenClock(NOW), session_factory=session_factory)
    app.state.web = dataclasses.replace(
        app.state.web, viewer_of=signed_in, directory=StaticDirectory()
    )
    return app


@pytest.fixture
async def browser_client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client like a browser without JavaScript, that shows redirects instead of following."""
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash.test") as client:
        yield client
