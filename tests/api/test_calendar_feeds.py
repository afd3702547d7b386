"""Calendar feeds over HTTP: what a calendar client reads, parsed back with icalendar."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Collection
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from icalendar import Calendar
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.calendar.tokens import calendar_url, rotate_calendar_token, user_for_token
from game_scheduler.config import Settings
from game_scheduler.games import service
from tests.api import conftest
from tests.api.conftest import API_TOKEN, CHANNEL, GUILD, HOST, NOW, START
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

PLAYER = 444_444_444_444_444_444
OTHER_GUILD = "555555555555555555"
OTHER_CHANNEL = "555555555555555600"
CHANNELS = {GUILD: CHANNEL, OTHER_GUILD: OTHER_CHANNEL}  # each server's own channel


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Create a game through the API in its server's own channel."""
    channel = CHANNELS[overrides.get("guild_id", GUILD)]
    return await conftest.create(client, **{"channel_id": channel, **overrides})


@pytest.fixture
def settings(database_url: str, discord_sandbox: SandboxHandle) -> Settings:
    """An API whose Discord is the sandbox: membership is what the sandbox reports."""
    return Settings(
        database_url=database_url,
        api_token=SecretStr(API_TOKEN),
        discord_api_base=discord_sandbox.api_base,
    )


class Members:
    """Who is in which server, set in the sandbox as Discord would report it."""

    def __init__(self, sandbox: SandboxHandle, app: FastAPI) -> None:
        self.sandbox = sandbox
        self.app = app

    async def only(self, guild_id: str, members: Collection[int]) -> None:
        """The server has exactly these members."""
        body = {
            "guild_id": guild_id,
            "name": f"server {guild_id[-3:]}",
            "owner_id": HOST,
            "members": [{"user_id": str(m), "username": f"user{m}"} for m in members],
            "channels": [{"id": CHANNELS[guild_id], "name": "games"}],
        }
        url = f"{self.sandbox.url}/sandbox/guilds"
        async with self.sandbox.session.post(url, json=body) as response:
            assert response.status == 201, await response.text()
        self.app.state.identity.directory.forget()  # the API's answers are a minute old at most

    async def of(self, user_id: int, *guild_ids: str) -> None:
        """The person is a member of these servers."""
        for guild_id in guild_ids:
            await self.only(guild_id, [user_id])


@pytest.fixture
async def members(discord_sandbox: SandboxHandle, app: FastAPI) -> Members:
    """Set who is in which server; both start with their channel and no members."""
    described = Members(discord_sandbox, app)
    for guild_id in CHANNELS:
        await described.only(guild_id, [])
    return described


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
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    joined = await create(client, title="Raid night", where="Voice: Raid", max_players=4)
    await join(client, joined["id"], PLAYER)
    hosted = await create(client, title="My own game", guild_id=OTHER_GUILD, host_id=str(PLAYER))
    await create(client, title="Someone else's game")
    await members.of(PLAYER, GUILD, OTHER_GUILD)

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
    members: Members,
) -> None:
    game = await create(client, host_id=str(PLAYER))
    await members.of(PLAYER, GUILD)
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
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    game = await create(client, host_id=str(PLAYER))
    await members.of(PLAYER, GUILD)
    assert (await client.delete(f"/api/v1/games/{game['id']}")).status_code == 200

    event = (await events(anonymous, feed_path(session_factory, PLAYER)))["Raid night"]
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("sequence") == 1
    assert event.walk("VALARM") == []


async def test_etag_round_trip_answers_304_until_the_game_changes(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    game = await create(client, host_id=str(PLAYER))
    await members.of(PLAYER, GUILD)
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
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    await create(client, host_id=str(PLAYER))
    await members.of(PLAYER, GUILD)
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
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    stayed = await create(client, title="Still here")
    left = await create(client, title="Left behind", guild_id=OTHER_GUILD)
    hosted = await create(client, title="Hosted there", guild_id=OTHER_GUILD, host_id=str(PLAYER))
    for game in (stayed, left):
        await join(client, game["id"], PLAYER)
    await members.of(PLAYER, GUILD, OTHER_GUILD)
    path = feed_path(session_factory, PLAYER)
    guild_path = path.removesuffix(".ics") + f"/guilds/{OTHER_GUILD}.ics"
    assert set(await events(anonymous, path)) == {"Still here", "Left behind", "Hosted there"}
    assert (await anonymous.get(guild_path)).status_code == 200

    await members.only(OTHER_GUILD, [int(HOST)])  # the person leaves the server in Discord

    assert set(await events(anonymous, path)) == {"Still here"}
    assert (await anonymous.get(guild_path)).status_code == 404
    assert hosted["id"] not in (await anonymous.get(path)).text


async def test_feeds_answer_503_when_discord_cannot_say_who_is_a_member(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
    discord_sandbox: SandboxHandle,
) -> None:
    await create(client, host_id=str(PLAYER))
    await members.of(PLAYER, GUILD)
    await discord_sandbox.fault("GET /guilds/*", status=502, count=5)

    response = await anonymous.get(feed_path(session_factory, PLAYER))
    assert response.status_code == 503  # calendar clients keep what they had
    assert response.headers["retry-after"].isdigit()
    assert "Raid night" not in response.text


def _lookup_costs(sessions: sessionmaker[Session], tokens: dict[str, str]) -> dict[str, Any]:
    """Per kind of token: the SQL its lookup ran and the median time of 41 lookups."""
    engine = sessions.kw["bind"]
    statements: dict[str, list[str]] = {kind: [] for kind in tokens}
    timings: dict[str, list[float]] = {kind: [] for kind in tokens}
    current: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        current.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(41):  # interleaved, so a busy machine slows every kind alike
            for kind, token in tokens.items():
                current.clear()
                with sessions() as session:
                    started = time.perf_counter()
                    user_for_token(session, token)
                    timings[kind].append(time.perf_counter() - started)
                statements[kind] = list(current)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return {
        "statements": statements,
        "median": {kind: statistics.median(t) for kind, t in timings.items()},
    }


async def test_a_rotated_token_costs_the_same_as_any_other(
    session_factory: sessionmaker[Session],
) -> None:
    old = feed_path(session_factory, PLAYER).removeprefix("/calendar/").removesuffix(".ics")
    with session_factory.begin() as s:
        valid = rotate_calendar_token(s, PLAYER)
    tokens = {
        "valid": valid,
        "rotated": old,
        "never issued": "B" * 43,
        "malformed": "%00'--",
    }
    with session_factory() as s:
        assert user_for_token(s, valid) == PLAYER
        assert {user_for_token(s, t) for k, t in tokens.items() if k != "valid"} == {None}

    costs = _lookup_costs(session_factory, tokens)

    # One identical query for every kind: nothing about the token changes what runs.
    assert len({tuple(s) for s in costs["statements"].values()}) == 1
    assert len(costs["statements"]["valid"]) == 1
    medians = costs["median"]
    spread = max(medians.values()) - min(medians.values())
    assert spread < 0.5 * min(medians.values()) + 0.001, medians  # seconds


async def test_placeholder_names_never_reach_a_feed(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    game = await create(client, host_id=str(PLAYER))
    with session_factory.begin() as s:
        service.join_game(
            s, uuid.UUID(game["id"]), 777, now=NOW, display_name="Secret Placeholder Name"
        )
    await members.of(PLAYER, GUILD)
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
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    members: Members,
) -> None:
    await create(client, title="One")
    await create(client, title="Two")
    await create(client, title="Elsewhere", guild_id=OTHER_GUILD)
    await members.of(PLAYER, GUILD)
    path = feed_path(session_factory, PLAYER).removesuffix(".ics") + f"/guilds/{GUILD}.ics"

    assert set(await events(anonymous, path)) == {"One", "Two"}


async def test_one_game_as_ics_and_google_link(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, members: Members
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
