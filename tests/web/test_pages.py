"""The dashboard without JavaScript: pages read, forms post, refusals say why."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import EventOutbox, GameSession, GuildSettings, UserSettings
from game_scheduler.domain.permissions import Rights
from game_scheduler.web.viewer import ServerAccess, Viewer
from tests.web.conftest import (
    CHANNEL,
    CSRF,
    GUILD,
    HOST,
    HOST_VIEWER,
    MEMBER,
    MEMBER_VIEWER,
    OTHER_GUILD,
    Signed,
)

pytestmark = pytest.mark.integration

FORM = {
    "csrf_token": CSRF,
    "title": "Catan night",
    "description": "Bring snacks",
    "where": "Kitchen table",
    "signup_instructions": "",
    "channel_id": str(CHANNEL),
    "date": "2030-01-15",
    "time": "20:00",
    "duration": "150",
    "seats": "2",
    "reminders": ["1440", "15"],
    "custom_reminders": "30",
}


def _game_id(response_location: str) -> str:
    match = re.fullmatch(r"/games/([0-9a-f-]{36})\?done=\w+", response_location)
    assert match, response_location
    return match.group(1)


async def _create(client: httpx.AsyncClient, **changes: object) -> str:
    response = await client.post(f"/servers/{GUILD}/games/new", data={**FORM, **changes})
    assert response.status_code == 303, response.text
    return _game_id(response.headers["location"])


def _events(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(EventOutbox)) or 0)


async def test_signed_out_people_see_a_welcome_and_are_sent_to_sign_in(
    browser_client: httpx.AsyncClient,
) -> None:
    home = await browser_client.get("/")
    assert home.status_code == 200
    assert "Sign in with Discord" in home.text
    assert (await browser_client.get(f"/servers/{GUILD}")).headers["location"] == (
        f"/auth/login?next=/servers/{GUILD}"
    )


async def test_a_host_creates_a_game_in_their_own_time_zone(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    form = await browser_client.get(f"/servers/{GUILD}/games/new")
    assert "Europe/Berlin" in form.text
    assert "#game-nights" in form.text
    game_id = await _create(browser_client)
    with session_factory() as s:
        game = s.get(GameSession, uuid.UUID(game_id))
        assert game is not None
        # 20:00 in Berlin in January is 19:00 UTC.
        assert game.scheduled_at == datetime(2030, 1, 15, 19, 0, tzinfo=UTC)
        assert game.reminder_minutes == [1440, 30, 15]
        assert game.expected_duration_minutes == 150
    page = await browser_client.get(f"/games/{game_id}?done=created")
    assert "Game created" in page.text
    assert "Tue 15 Jan 2030, 20:00 (Europe/Berlin)" in page.text
    assert "1 day before, 30 minutes before, 15 minutes before" in page.text
    home = await browser_client.get("/")
    assert "Catan night" in home.text
    assert "Hosting" in home.text


async def test_a_refused_form_keeps_what_was_typed_and_says_why_beside_each_field(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    before = _events(session_factory)
    response = await browser_client.post(
        f"/servers/{GUILD}/games/new",
        data={**FORM, "title": "x" * 201, "seats": "lots", "date": "2020-01-01"},
    )
    assert response.status_code == 422
    assert 'id="f-seats-error">must be a whole number' in response.text
    assert 'value="lots"' in response.text
    assert 'value="Kitchen table"' in response.text
    past = await browser_client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "date": "2020-01-01"}
    )
    assert past.status_code == 422
    assert 'id="f-when-error">must be in the future' in past.text
    long = await browser_client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "title": "x" * 201}
    )
    assert 'id="f-title-error">is too long: at most 200 characters' in long.text
    assert _events(session_factory) == before


async def test_joining_leaving_and_the_host_running_the_roster(
    browser_client: httpx.AsyncClient, signed_in: Signed
) -> None:
    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    signed_in.viewer = MEMBER_VIEWER
    page = await browser_client.get(f"/games/{game_id}")
    assert ">Join</button>" in page.text
    assert "Cancel game" not in page.text
    joined = await browser_client.post(f"/games/{game_id}/join", data={"csrf_token": CSRF})
    assert joined.status_code == 303
    page = await browser_client.get(f"/games/{game_id}")
    assert ">Leave</button>" in page.text
    assert "Confirmed" in page.text
    # A plain member cannot run the roster, even by posting directly.
    refused = await browser_client.post(
        f"/games/{game_id}/placeholders", data={"csrf_token": CSRF, "display_name": "Bob"}
    )
    assert refused.status_code == 403
    signed_in.viewer = HOST_VIEWER
    for name in ("Grandma", "Uncle"):
        added = await browser_client.post(
            f"/games/{game_id}/placeholders", data={"csrf_token": CSRF, "display_name": name}
        )
        assert added.status_code == 303
    page = await browser_client.get(f"/games/{game_id}")
    assert "Waitlist" in page.text
    uncle = re.search(
        r'/players/([0-9a-f-]{36})/up"[^>]*>\s*<input[^>]*>\s*<button[^>]*Move Uncle up', page.text
    )
    assert uncle, page.text
    moved = await browser_client.post(
        f"/games/{game_id}/players/{uncle.group(1)}/up", data={"csrf_token": CSRF}
    )
    assert moved.status_code == 303
    page = await browser_client.get(f"/games/{game_id}")
    assert page.text.index("Uncle") < page.text.index("Grandma")
    blank = await browser_client.post(
        f"/games/{game_id}/placeholders", data={"csrf_token": CSRF, "display_name": "  "}
    )
    assert blank.status_code == 422
    assert "Must name the person" in blank.text


async def test_cancel_asks_first_then_cancels(
    browser_client: httpx.AsyncClient, signed_in: Signed
) -> None:
    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    confirm = await browser_client.get(f"/games/{game_id}/cancel")
    assert "Yes, cancel the game" in confirm.text
    done = await browser_client.post(f"/games/{game_id}/cancel", data={"csrf_token": CSRF})
    assert done.status_code == 303
    page = await browser_client.get(f"/games/{game_id}?done=cancelled")
    assert 'id="game-status">Cancelled' in page.text
    again = await browser_client.post(f"/games/{game_id}/cancel", data={"csrf_token": CSRF})
    assert again.status_code == 409
    assert "already cancelled" in again.text


async def test_forms_without_the_csrf_token_or_rights_change_nothing(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = MEMBER_VIEWER
    server = await browser_client.get(f"/servers/{GUILD}")
    assert "New game" not in server.text
    before = _events(session_factory)
    refused = await browser_client.post(f"/servers/{GUILD}/games/new", data=FORM)
    assert refused.status_code == 403
    assert "Only the server&#39;s hosts and managers may create games" in refused.text
    signed_in.viewer = HOST_VIEWER
    stale = await browser_client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "csrf_token": "x"}
    )
    assert stale.status_code == 403
    assert "Nothing was changed" in stale.text
    assert _events(session_factory) == before


async def test_another_servers_game_is_a_404_page(
    browser_client: httpx.AsyncClient, signed_in: Signed
) -> None:
    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    signed_in.viewer = Viewer(
        user_id=MEMBER,
        username="stranger",
        csrf_token=CSRF,
        servers=(ServerAccess(OTHER_GUILD, "Elsewhere", Rights(True, True)),),
    )
    for path in (f"/games/{game_id}", f"/servers/{GUILD}", "/games/not-a-uuid"):
        page = await browser_client.get(path)
        assert page.status_code in (404, 422), path
        assert "<!doctype html>" in page.text or page.status_code == 422
    assert "Not found" in (await browser_client.get(f"/games/{game_id}")).text


async def test_the_live_part_of_a_page_alone(
    browser_client: httpx.AsyncClient, signed_in: Signed
) -> None:
    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    live = await browser_client.get(f"/games/{game_id}?live=1")
    assert live.text.startswith("<div><article")
    assert "<html" not in live.text


async def test_managers_change_the_servers_settings(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = HOST_VIEWER
    assert (await browser_client.get(f"/servers/{GUILD}/settings")).status_code == 403
    manager = Viewer(
        user_id=HOST,
        username="hana",
        csrf_token=CSRF,
        servers=(ServerAccess(GUILD, "Board Gamers", Rights(True, True)),),
    )
    signed_in.viewer = manager
    page = await browser_client.get(f"/servers/{GUILD}/settings")
    assert "Game Master" in page.text
    bad = await browser_client.post(
        f"/servers/{GUILD}/settings",
        data={"csrf_token": CSRF, "timezone": "Mars/Olympus", "default_reminder_minutes": "5,5"},
    )
    assert bad.status_code == 422
    assert "is not a time zone name" in bad.text
    assert "must not repeat a value" in bad.text
    saved = await browser_client.post(
        f"/servers/{GUILD}/settings",
        data={
            "csrf_token": CSRF,
            "timezone": "America/New_York",
            "host_role_ids": ["555"],
            "default_channel_id": str(CHANNEL),
            "default_reminder_minutes": "60, 10",
            "default_duration_minutes": "90",
        },
    )
    assert saved.status_code == 303
    with session_factory() as s:
        row = s.get(GuildSettings, GUILD)
        assert row is not None
        assert (row.timezone, row.host_role_ids, row.default_reminder_minutes) == (
            "America/New_York",
            [555],
            [60, 10],
        )
    signed_in.viewer = dataclass_replace_zone(manager)
    form = await browser_client.get(f"/servers/{GUILD}/games/new")
    assert "America/New_York" in form.text
    assert 'value="90"' in form.text


def dataclass_replace_zone(viewer: Viewer) -> Viewer:
    import dataclasses

    return dataclasses.replace(viewer, timezone=None)


async def test_a_person_sets_their_own_time_zone(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = MEMBER_VIEWER
    home = await browser_client.get("/")
    assert 'for="f-my-timezone">Time zone' in home.text
    bad = await browser_client.post(
        "/me/timezone", data={"csrf_token": CSRF, "timezone": "Nowhere"}
    )
    assert bad.status_code == 422
    assert 'value="Nowhere"' in bad.text
    saved = await browser_client.post(
        "/me/timezone", data={"csrf_token": CSRF, "timezone": "Asia/Tokyo"}
    )
    assert saved.headers["location"] == "/?done=zone"
    with session_factory() as s:
        row = s.get(UserSettings, MEMBER)
        assert row is not None
        assert row.timezone == "Asia/Tokyo"


async def test_a_person_turns_reminder_dms_off_and_on(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = MEMBER_VIEWER
    home = await browser_client.get("/")
    assert "Send me reminders, check-ins and join confirmations" in home.text
    assert 'name="dm_reminders" value="on" checked' in home.text
    forged = await browser_client.post("/me/reminders", data={"csrf_token": "wrong"})
    assert forged.status_code == 403
    with session_factory() as s:
        before = s.get(UserSettings, MEMBER)
        assert before is None or before.dm_reminders is True  # nothing changed

    off = await browser_client.post("/me/reminders", data={"csrf_token": CSRF})
    assert off.headers["location"] == "/?done=reminders"
    with session_factory() as s:
        row = s.get(UserSettings, MEMBER)
        assert row is not None
        assert row.dm_reminders is False
    await browser_client.post("/me/reminders", data={"csrf_token": CSRF, "dm_reminders": "on"})
    with session_factory() as s:
        row = s.get(UserSettings, MEMBER)
        assert row is not None
        assert row.dm_reminders is True


async def test_a_cancellation_from_the_dashboard_carries_who_and_why(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import text

    signed_in.viewer = HOST_VIEWER
    game_id = await _create(browser_client)
    confirm = await browser_client.get(f"/games/{game_id}/cancel")
    assert 'for="f-reason">Reason (optional)' in confirm.text
    done = await browser_client.post(
        f"/games/{game_id}/cancel", data={"csrf_token": CSRF, "reason": "Venue closed"}
    )
    assert done.status_code == 303
    with session_factory() as s:
        payload = s.execute(
            text(
                "SELECT payload FROM event_outbox WHERE event_type = 'game.cancelled'"
                " AND payload->>'game_id' = :g"
            ),
            {"g": str(game_id)},
        ).scalar_one()
    assert payload["reason"] == "Venue closed"
    assert payload["cancelled_by"] == str(HOST_VIEWER.user_id)


async def test_a_manager_turns_check_in_on_for_new_games(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    signed_in.viewer = Viewer(
        user_id=HOST,
        username="hana",
        csrf_token=CSRF,
        servers=(ServerAccess(GUILD, "Board Gamers", Rights(True, True)),),
    )
    page = await browser_client.get(f"/servers/{GUILD}/settings")
    assert "Ask confirmed players by DM whether they are coming" in page.text
    assert 'name="checkin_minutes" type="number" value="120"' in page.text
    base = {"csrf_token": CSRF, "timezone": "UTC"}
    bad = await browser_client.post(
        f"/servers/{GUILD}/settings", data={**base, "checkin_minutes": "0"}
    )
    assert bad.status_code == 422
    assert "must be whole minutes, 1 to 10080" in bad.text
    saved = await browser_client.post(
        f"/servers/{GUILD}/settings",
        data={**base, "checkin_enabled": "on", "checkin_minutes": "90", "release_minutes": "20"},
    )
    assert saved.status_code == 303
    with session_factory() as s:
        row = s.get(GuildSettings, GUILD)
        assert row is not None
        assert (row.checkin_enabled, row.checkin_minutes, row.release_enabled) == (True, 90, False)
        assert row.release_minutes == 20


async def test_a_host_sets_a_games_check_in_on_the_form(
    browser_client: httpx.AsyncClient, signed_in: Signed, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as s:
        s.add(GuildSettings(guild_id=GUILD, checkin_enabled=True, checkin_minutes=150))
    signed_in.viewer = HOST_VIEWER
    blank = await browser_client.get(f"/servers/{GUILD}/games/new")
    assert 'for="f-checkin">Check-in (minutes before)' in blank.text
    assert 'name="checkin" type="number" value="150"' in blank.text  # the server's

    refused = await browser_client.post(
        f"/servers/{GUILD}/games/new", data={**FORM, "checkin": "60", "release": "90"}
    )
    assert refused.status_code == 422
    assert "less than checkin_minutes" in refused.text
    game_id = await _create(browser_client, checkin="90", release="30", min_players="3")
    no_checkin = await _create(browser_client, checkin="")

    with session_factory() as s:
        game = s.get(GameSession, uuid.UUID(game_id))
        assert game is not None
        assert (game.checkin_minutes, game.release_minutes, game.min_players) == (90, 30, 3)
        cleared = s.get(GameSession, uuid.UUID(no_checkin))
        assert cleared is not None
        assert cleared.checkin_minutes is None  # cleared on the form: off, whatever the server says
    edit = await browser_client.get(f"/games/{game_id}/edit")
    assert 'name="release" type="number" value="30"' in edit.text
