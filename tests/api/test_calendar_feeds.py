"""Calendar feeds over HTTP: what a calendar client reads, parsed back with icalendar."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.calendar.tokens import calendar_url, rotate_calendar_token
from game_scheduler.games import service
from tests.api.conftest import GUILD, NOW, START, create

pytestmark = pytest.mark.integration

PLAYER = 444_444_444_444_444_444
OTHER_GUILD = "555555555555555555"


def member_of(sessions: sessionmaker[Session], user_id: int, *guild_ids: str) -> None:
    """Record the person's servers as Discord reported them at sign-in."""
    with sessions.begin() as s:
        s.execute(
            text(
                "INSERT INTO web_sessions (token_sha256, user_id, username, csrf_token,"
                " guild_ids, guilds_refreshed_at, expires_at)"
                " VALUES (:t, :u, 'player', 'csrf', :g, now(), now() + interval '1 day')"
            ),
            {"t": uuid.uuid4().hex, "u": user_id, "g": [int(g) for g in guild_ids]},
        )


def feed_path(sessions: sessionmaker[Session], user_id: int) -> str:
    """The path of the person's feed URL, made as GET /api/v1/me makes it."""
    with sessions.begin() as s:
        return urlsplit(calendar_url(s, "http://api.test", user_id)).path


async def events(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """The feed's events by SUMMARY, after checking it is served as a calendar."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


async def join(client: httpx.AsyncClient, game_id: str, user_id: int) -> None:
    response = await client.post(
        f"/api/v1/games/{game_id}/participants", json={"user_id": str(user_id)}
    )
    assert response.status_code == 201, response.text


async def test_feed_holds_games_joined_and_hosted_across_servers(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    joined = await create(client, title="Raid night", where="Voice: Raid", max_players=4)
    await join(client, joined["id"], PLAYER)
    hosted = await create(client, title="My own game", guild_id=OTHER_GUILD, host_id=str(PLAYER))
    await create(client, title="Someone else's game")
    member_of(session_factory, PLAYER, GUILD, OTHER_GUILD)

    feed = await events(anonymous, feed_path(session_factory, PLAYER))

    assert set(feed) == {"Raid night", "My own game"}
    raid = feed["Raid night"]
    assert str(raid["uid"]) == f"{joined['id']}@game-scheduler"
    assert raid.decoded("dtstart") == START
    assert raid.decoded("dtend") == START + timedelta(minutes=60)
    assert str(raid["location"]) == "Voice: Raid"
    assert str(raid["status"]) == "CONFIRMED"
    [alarm] = raid.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-60)  # the first of 60 and 15
    assert "Players: 1/4" in str(raid["description"])
    assert str(feed["My own game"]["uid"]) == f"{hosted['id']}@game-scheduler"


async def test_an_edit_moves_sequence_and_last_modified(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    clock: Any,
) -> None:
    game = await create(client, host_id=str(PLAYER))
    member_of(session_factory, PLAYER, GUILD)
    path = feed_path(session_factory, PLAYER)
    before = (await events(anonymous, path))["Raid night"]

    clock.advance(timedelta(minutes=5))
    response = await client.patch(f"/api/v1/games/{game['id']}", json={"where": "Table 2"})
    assert response.status_code == 200, response.text

    after = (await events(anonymous, path))["Raid night"]
    assert after.decoded("sequence") == before.decoded("sequence") + 1
    assert after.decoded("last-modified") > before.decoded("last-modified")
    assert str(after["location"]) == "Table 2"
    assert after["uid"] == before["uid"]


async def test_a_cancelled_game_stays_in_the_feed_as_cancelled(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, host_id=str(PLAYER))
    member_of(session_factory, PLAYER, GUILD)
    assert (await client.delete(f"/api/v1/games/{game['id']}")).status_code == 200

    event = (await events(anonymous, feed_path(session_factory, PLAYER)))["Raid night"]
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("sequence") == 1
    assert event.walk("VALARM") == []


async def test_etag_round_trip_answers_304_until_the_game_changes(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, host_id=str(PLAYER))
    member_of(session_factory, PLAYER, GUILD)
    path = feed_path(session_factory, PLAYER)
    first = await anonymous.get(path)
    etag = first.headers["etag"]

    unchanged = await anonymous.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag

    await client.patch(f"/api/v1/games/{game['id']}", json={"title": "Raid night 2"})
    changed = await anonymous.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_wrong_and_rotated_tokens_get_the_same_404(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    await create(client, host_id=str(PLAYER))
    member_of(session_factory, PLAYER, GUILD)
    old = feed_path(session_factory, PLAYER)
    with session_factory.begin() as s:
        rotate_calendar_token(s, PLAYER)
    new = feed_path(session_factory, PLAYER)
    assert new != old

    answers = [
        await anonymous.get(path)
        for path in (
            old,
            "/calendar/" + "A" * 43 + ".ics",
            "/calendar/short.ics",
            "/calendar/%00%27--.ics",
            old.removesuffix(".ics") + f"/guilds/{GUILD}.ics",
        )
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert "calendar_token" not in answers[0].text
    assert (await anonymous.get(new)).status_code == 200


async def test_a_server_the_person_left_drops_out_of_their_feed(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    stayed = await create(client, title="Still here")
    left = await create(client, title="Left behind", guild_id=OTHER_GUILD)
    for game in (stayed, left):
        await join(client, game["id"], PLAYER)
    member_of(session_factory, PLAYER, GUILD)  # no longer in OTHER_GUILD

    path = feed_path(session_factory, PLAYER)
    assert set(await events(anonymous, path)) == {"Still here"}
    guild_path = path.removesuffix(".ics") + f"/guilds/{OTHER_GUILD}.ics"
    assert (await anonymous.get(guild_path)).status_code == 404


async def test_placeholder_names_never_reach_a_feed(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, host_id=str(PLAYER))
    with session_factory.begin() as s:
        service.join_game(
            s, uuid.UUID(game["id"]), 777, now=NOW, display_name="Secret Placeholder Name"
        )
    member_of(session_factory, PLAYER, GUILD)
    path = feed_path(session_factory, PLAYER)

    for url in (
        path,
        path.removesuffix(".ics") + f"/guilds/{GUILD}.ics",
        f"/calendar/games/{game['id']}.ics",
    ):
        response = await anonymous.get(url)
        assert response.status_code == 200
        assert b"Secret Placeholder" not in response.content


async def test_server_feed_holds_all_its_games_for_a_member(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    await create(client, title="One")
    await create(client, title="Two")
    await create(client, title="Elsewhere", guild_id=OTHER_GUILD)
    member_of(session_factory, PLAYER, GUILD)
    path = feed_path(session_factory, PLAYER).removesuffix(".ics") + f"/guilds/{GUILD}.ics"

    assert set(await events(anonymous, path)) == {"One", "Two"}


async def test_one_game_as_ics_and_google_link(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    game = await create(client, title="Board games", where="Café")

    single = await events(anonymous, f"/calendar/games/{game['id']}.ics")
    assert set(single) == {"Board games"}
    google = await anonymous.get(f"/calendar/games/{game['id']}/google")
    assert google.status_code == 302
    assert google.headers["location"].startswith("https://calendar.google.com/calendar/render?")
    assert "Board+games" in google.headers["location"]
    assert (await anonymous.get(f"/calendar/games/{uuid.uuid4()}.ics")).status_code == 404
    assert (await anonymous.get("/calendar/games/not-a-game.ics")).status_code == 404


async def test_feed_url_is_stable_until_rotated(session_factory: sessionmaker[Session]) -> None:
    first = feed_path(session_factory, PLAYER)
    assert feed_path(session_factory, PLAYER) == first
    assert first.startswith("/calendar/")
    assert first.endswith(".ics")
    assert len(first) == len("/calendar/.ics") + 43
