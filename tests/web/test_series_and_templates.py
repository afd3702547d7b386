"""The dashboard's "Repeat" and "Start from template" choices, and a series on a game's page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import GameSeries, GameSession, GuildSettings
from game_scheduler.domain.permissions import Rights
from game_scheduler.games import templates as template_store
from game_scheduler.web.viewer import ServerAccess, Viewer
from tests.web.conftest import (
    CHANNEL,
    CSRF,
    GUILD,
    HOST,
    HOST_VIEWER,
    MEMBER_VIEWER,
    NOW,
    OTHER_GUILD,
    Signed,
)
from tests.web.test_pages import FORM

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def berlin_server(session_factory: sessionmaker[Session]) -> None:
    """The test server keeps its games in Berlin time."""
    with session_factory.begin() as session:
        session.add(GuildSettings(guild_id=GUILD, timezone="Europe/Berlin"))


def _series(sessions: sessionmaker[Session]) -> list[GameSeries]:
    with sessions() as session:
        found = list(session.scalars(select(GameSeries)))
        session.expunge_all()
        return found


def _games(sessions: sessionmaker[Session]) -> list[GameSession]:
    with sessions() as session:
        found = list(session.scalars(select(GameSession).order_by(GameSession.scheduled_at)))
        session.expunge_all()
        return found


async def _create_series(client: httpx.AsyncClient, **changes: Any) -> str:
    response = await client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "repeat": "weekly", **changes}
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/games/([0-9a-f-]{36})\?done=series", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


async def test_a_weekly_series_from_the_form_keeps_20_00_in_the_servers_zone(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    form = await browser_client.get(f"/servers/{GUILD}/games/new")
    assert "Every 2 weeks" in form.text
    first_id = await _create_series(browser_client)  # Tuesday 2030-01-15, 20:00 Berlin
    [series] = _series(session_factory)
    assert (series.rrule, series.timezone) == ("FREQ=WEEKLY;BYDAY=TU", "Europe/Berlin")
    assert series.local_start == datetime(2030, 1, 15, 20, 0)
    games = _games(session_factory)
    assert [g.scheduled_at for g in games] == [
        datetime(2030, 1, 15, 19, 0, tzinfo=UTC),
        datetime(2030, 1, 22, 19, 0, tzinfo=UTC),
    ]
    assert str(games[0].id) == first_id
    assert {(g.title, g.max_players) for g in games} == {("Catan night", 2)}
    page = await browser_client.get(f"/games/{first_id}?done=series")
    assert "Series created" in page.text
    assert "This game repeats every Tuesday at 20:00 (Europe/Berlin)." in page.text
    assert "Tue 22 Jan 2030, 20:00 (Europe/Berlin)" in page.text
    assert "Skip this one" in page.text
    assert "End series" in page.text


async def test_skip_this_one_cancels_only_that_game(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    first_id = await _create_series(browser_client)
    skipped = await browser_client.post(f"/games/{first_id}/skip", data={"csrf_token": CSRF})
    assert skipped.status_code == 303
    assert skipped.headers["location"] == f"/games/{first_id}?done=skipped"
    statuses = [g.status for g in _games(session_factory)]
    assert statuses[0] == "CANCELLED"
    assert set(statuses[1:]) == {"SCHEDULED"}
    assert _series(session_factory)[0].active is True
    page = await browser_client.get(f"/games/{first_id}?done=skipped")
    assert "This one is skipped" in page.text
    assert "Skip this one" not in page.text


async def test_ending_a_series_asks_first_then_cancels_its_games(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    await _create_series(browser_client)
    [series] = _series(session_factory)
    confirm = await browser_client.get(f"/series/{series.id}/end")
    assert "End the series “Catan night”?" in confirm.text
    assert "every Tuesday at 20:00 (Europe/Berlin)" in confirm.text
    ended = await browser_client.post(f"/series/{series.id}/end", data={"csrf_token": CSRF})
    assert ended.status_code == 303
    assert ended.headers["location"] == f"/servers/{GUILD}?done=ended"
    assert {g.status for g in _games(session_factory)} == {"CANCELLED"}
    assert _series(session_factory)[0].active is False
    again = await browser_client.post(f"/series/{series.id}/end", data={"csrf_token": CSRF})
    assert again.status_code == 409


async def test_a_member_sees_the_series_but_may_not_change_it(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    first_id = await _create_series(browser_client)
    [series] = _series(session_factory)
    signed_in.viewer = MEMBER_VIEWER
    page = await browser_client.get(f"/games/{first_id}")
    assert "This game repeats every Tuesday" in page.text
    assert "Skip this one" not in page.text
    assert "End series" not in page.text
    refused = await browser_client.post(f"/games/{first_id}/skip", data={"csrf_token": CSRF})
    assert refused.status_code == 403
    ending = await browser_client.post(f"/series/{series.id}/end", data={"csrf_token": CSRF})
    assert ending.status_code == 403
    assert {g.status for g in _games(session_factory)} == {"SCHEDULED"}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"date": "2020-01-07"}, "when", "must be in the future"),
        ({"repeat": "hourly"}, "repeat", "must be one of weekly, biweekly, monthly"),
        ({"title": ""}, "title", "is required"),
    ],
)
async def test_a_refused_series_form_says_why_and_makes_nothing(
    browser_client: httpx.AsyncClient,
    signed_in: Signed,
    session_factory: sessionmaker[Session],
    changes: dict[str, str],
    field: str,
    words: str,
) -> None:
    signed_in.viewer = HOST_VIEWER
    response = await browser_client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "repeat": "weekly", **changes}
    )
    assert response.status_code == 422
    assert f'id="f-{field}-error">{words}' in response.text
    assert _series(session_factory) == []
    assert _games(session_factory) == []


def _template(sessions: sessionmaker[Session], guild_id: int, name: str, **fields: Any) -> str:
    with sessions.begin() as session:
        new = template_store.NewTemplate(guild_id=guild_id, name=name, **fields)
        return str(template_store.create_template(session, new, now=NOW).id)


async def test_a_new_game_starts_from_a_template_the_host_may_use(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    raid = _template(
        session_factory,
        GUILD,
        "Raid night",
        channel_id=CHANNEL,
        title="Raid",
        description="Bring potions",
        max_players=8,
        expected_duration_minutes=180,
        reminder_minutes=[1440, 45],
    )
    staff = _template(session_factory, GUILD, "Staff only", allowed_role_ids=[555])
    elsewhere = _template(session_factory, OTHER_GUILD, "Elsewhere")

    form = await browser_client.get(f"/servers/{GUILD}/games/new")
    assert "Start from template" in form.text
    assert "Raid night" in form.text
    assert "Staff only" not in form.text

    filled = await browser_client.get(f"/servers/{GUILD}/games/new", params={"template": raid})
    assert filled.status_code == 200
    for value in ('value="Raid"', 'value="8"', 'value="180"', 'value="45"', "Bring potions"):
        assert value in filled.text, value
    assert re.search(r'value="1440"\s+checked', filled.text)

    kept = await browser_client.get(f"/servers/{GUILD}/games/new", params={"template": staff})
    assert kept.status_code == 403
    assert "kept for other host roles" in kept.text
    for unknown in (elsewhere, str(uuid.uuid4()), "no such template"):
        missing = await browser_client.get(
            f"/servers/{GUILD}/games/new", params={"template": unknown}
        )
        assert missing.status_code == 404
        assert "This server has no such template" in missing.text
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(GameSession)) == 0


MANAGER_VIEWER = Viewer(
    user_id=HOST,
    username="hana",
    csrf_token=CSRF,
    timezone="Europe/Berlin",
    servers=(ServerAccess(GUILD, "Board Gamers", Rights(can_host=True, can_manage=True)),),
)
TEMPLATE_FORM = {
    "csrf_token": CSRF,
    "name": "Raid night",
    "title": "Raid",
    "channel_id": str(CHANNEL),
    "seats": "8",
    "duration": "180",
    "reminders": ["1440"],
    "allowed_role_ids": ["555"],
}


async def test_a_manager_makes_and_deletes_templates_on_the_templates_page(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = MANAGER_VIEWER
    server = await browser_client.get(f"/servers/{GUILD}")
    assert f'href="/servers/{GUILD}/templates"' in server.text
    made = await browser_client.post(f"/servers/{GUILD}/templates", data=TEMPLATE_FORM)
    assert made.status_code == 303, made.text
    page = await browser_client.get(made.headers["location"])
    assert "Template saved" in page.text
    assert "Raid night" in page.text
    assert "Raid · #game-nights · 8 seats · 3 hours · reminders: 1 day · for: Game Master" in (
        page.text
    )
    with session_factory() as session:
        [template] = template_store.list_templates(session, GUILD)
        assert (template.max_players, template.reminder_minutes) == (8, [1440])
        assert template.allowed_role_ids == [555]

    again = await browser_client.post(
        f"/servers/{GUILD}/templates", data={**TEMPLATE_FORM, "name": "RAID NIGHT", "seats": "0"}
    )
    assert again.status_code == 422
    assert 'id="f-seats-error">must be at least 1' in again.text
    taken = await browser_client.post(
        f"/servers/{GUILD}/templates", data={**TEMPLATE_FORM, "name": "raid night"}
    )
    assert 'id="f-name-error">another template of this server has this name' in taken.text

    gone = await browser_client.post(
        f"/servers/{GUILD}/templates/{template.id}/delete", data={"csrf_token": CSRF}
    )
    assert gone.status_code == 303
    with session_factory() as session:
        assert template_store.list_templates(session, GUILD) == []


async def test_hosts_may_not_change_templates(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    assert (await browser_client.get(f"/servers/{GUILD}/templates")).status_code == 403
    refused = await browser_client.post(f"/servers/{GUILD}/templates", data=TEMPLATE_FORM)
    assert refused.status_code == 403
    with session_factory() as session:
        assert template_store.list_templates(session, GUILD) == []
