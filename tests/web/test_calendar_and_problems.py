"""The dashboard's calendar link and the problems it shows: a game not posted, no events."""

from __future__ import annotations

import dataclasses
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.app import create_app
from game_scheduler.config import Settings
from game_scheduler.db.models import GameSession, GuildSettings
from game_scheduler.domain.permissions import SEND_MESSAGES, Rights
from game_scheduler.testing import FrozenClock
from game_scheduler.web.viewer import ServerAccess, Viewer
from tests.fixtures.sandbox import SandboxHandle
from tests.web.conftest import (
    CHANNEL,
    CSRF,
    GUILD,
    HOST,
    HOST_VIEWER,
    MEMBER_VIEWER,
    NOW,
    Signed,
    StaticDirectory,
)
from tests.web.test_pages import FORM, _create

pytestmark = pytest.mark.integration

FEED = re.compile(r'id="calendar-url" readonly value="http[^"]+/calendar/([A-Za-z0-9_-]{43})\.ics"')
MANAGER = Viewer(
    user_id=HOST,
    username="hana",
    csrf_token=CSRF,
    servers=(ServerAccess(GUILD, "Board Gamers", Rights(True, True)),),
)


async def _feed_token(client: httpx.AsyncClient) -> str:
    home = await client.get("/")
    assert home.status_code == 200
    match = FEED.search(home.text)
    assert match, "the home page shows no calendar address"
    return match.group(1)


async def test_new_calendar_link_replaces_the_old_one(
    browser_client: httpx.AsyncClient, signed_in: Signed
) -> None:
    signed_in.viewer = MEMBER_VIEWER
    old = await _feed_token(browser_client)
    assert old == await _feed_token(browser_client)  # stable until asked for a new one
    home = await browser_client.get("/")
    assert home.text.count("New calendar link") == 1
    assert home.text.count('id="calendar-url"') == 1
    assert re.search(r"<title>Your games[^<]*</title>", home.text)

    refused = await browser_client.post("/me/calendar-token", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert await _feed_token(browser_client) == old

    done = await browser_client.post("/me/calendar-token", data={"csrf_token": CSRF})
    assert done.status_code == 303
    assert done.headers["location"] == "/?done=calendar"
    page = await browser_client.get(done.headers["location"])
    assert "The old one no longer works" in page.text
    new = await _feed_token(browser_client)
    assert new != old
    gone = await browser_client.get(f"/calendar/{old}.ics")
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == "no calendar at this address"


async def test_a_game_the_bot_could_not_post_says_so_on_its_page_and_in_lists(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    page = await browser_client.get(f"/games/{game_id}")
    assert "could not post" not in page.text
    assert "Add to calendar" in page.text
    ics = re.search(r'href="(/calendar/games/[0-9a-f-]{36}\.ics)"', page.text)
    assert ics is not None
    assert (await browser_client.get(ics.group(1))).status_code == 200

    problem = "the bot cannot post in channel 222: Missing Permissions (Discord error 50013)"
    with session_factory.begin() as s:
        # Posted once, then an edit was refused: the link stays, and so does the problem.
        s.execute(
            update(GameSession)
            .where(GameSession.id == uuid.UUID(game_id))
            .values(message_id=987_654_321_987_654_321, post_error=problem)
        )
    page = await browser_client.get(f"/games/{game_id}")
    assert f"The bot could not post this game: {problem}" in page.text
    assert "Open the Discord message" in page.text
    listed = await browser_client.get(f"/servers/{GUILD}")
    assert "Not posted in Discord" in listed.text
    home = await browser_client.get("/")
    assert "Not posted in Discord" in home.text


async def test_settings_show_why_games_are_not_discord_events_and_turn_them_off(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = MANAGER
    page = await browser_client.get(f"/servers/{GUILD}/settings")
    assert "Show every game in the server's Events tab" in page.text
    assert 'value="on" checked' in page.text
    assert 'id="events-problem"' not in page.text

    reason = "The bot lacks the Manage Events permission in this server, so games are not shown"
    with session_factory.begin() as s:
        s.execute(
            text(
                "INSERT INTO guild_settings (guild_id, scheduled_events_error,"
                " scheduled_events_error_at) VALUES (:g, :e, now())"
            ),
            {"g": GUILD, "e": reason},
        )
    page = await browser_client.get(f"/servers/{GUILD}/settings")
    assert reason in page.text
    assert "Once the bot has Manage Events" in page.text

    saved = await browser_client.post(
        f"/servers/{GUILD}/settings",
        data={"csrf_token": CSRF, "timezone": "UTC"},  # the box left unticked
    )
    assert saved.status_code == 303
    with session_factory() as s:
        row = s.get(GuildSettings, GUILD)
        assert row is not None
        assert row.scheduled_events_enabled is False
    page = await browser_client.get(f"/servers/{GUILD}/settings")
    assert 'value="on" checked' not in page.text


@pytest.fixture
def sandboxed_web_app(
    database_url: str,
    session_factory: sessionmaker[Session],
    signed_in: Signed,
    discord_sandbox: SandboxHandle,
) -> FastAPI:
    """The dashboard with the sandbox as Discord (for the bot's channel permissions)."""
    settings = Settings(
        database_url=database_url,
        api_token=SecretStr("t" * 32),
        discord_api_base=discord_sandbox.api_base,
    )
    app = create_app(settings, clock=FrozenClock(NOW), session_factory=session_factory)
    app.state.web = dataclasses.replace(
        app.state.web, viewer_of=signed_in, directory=StaticDirectory()
    )
    return app


async def test_the_form_refuses_a_channel_the_bot_cannot_post_in(
    sandboxed_web_app: FastAPI,
    signed_in: Signed,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
) -> None:
    signed_in.viewer = HOST_VIEWER
    server = {
        "guild_id": str(GUILD),
        "owner_id": str(HOST),
        "channels": [{"id": str(CHANNEL), "name": "game-nights"}],
    }
    async with discord_sandbox.session.post(
        f"{discord_sandbox.url}/sandbox/guilds", json=server
    ) as described:
        assert described.status == 201
    transport = httpx.ASGITransport(app=sandboxed_web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash.test") as client:
        game_id = await _create(client)  # the bot may post: created
        url = f"{discord_sandbox.url}/sandbox/bot-permissions"
        body = {"channel_id": str(CHANNEL), "deny": str(SEND_MESSAGES)}
        async with discord_sandbox.session.post(url, json=body) as response:
            assert response.status == 200
        refused = await client.post(f"/servers/{GUILD}/games/new", data={**FORM, "title": "No"})
        edit = await client.post(
            f"/games/{game_id}/edit", data={**FORM, "title": "Catan night, moved"}
        )

    assert refused.status_code == 422
    assert "the bot cannot post in" in refused.text
    assert "it lacks Send Messages there" in refused.text
    assert 'value="No"' in refused.text  # what was typed is kept
    assert edit.status_code == 422
    assert "it lacks Send Messages there" in edit.text
    with session_factory() as s:
        titles = set(s.scalars(select(GameSession.title)))
    assert titles == {"Catan night"}
