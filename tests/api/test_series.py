"""Repeating games through the API: create, read, edit, skip and end, with clear 422s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.games import series as series_service
from tests.api.conftest import CHANNEL, GUILD, HOST, NOW, count_rows

pytestmark = pytest.mark.integration

# Tomorrow at this minute, as a wall-clock time in UTC: its week is inside the horizon.
SOON = (NOW + timedelta(days=1)).replace(second=0, tzinfo=None)


def series_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body; keyword arguments replace or add fields."""
    body: dict[str, Any] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "host_id": HOST,
        "title": "Friday board games",
        "rrule": "FREQ=WEEKLY",
        "timezone": "UTC",
        "local_start": SOON.isoformat(),
    }
    body.update(overrides)
    return body


async def create_series(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Create a series through the API and return its body."""
    response = await client.post("/api/v1/series", json=series_body(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def occurrence_games(client: httpx.AsyncClient, series_id: str) -> list[dict[str, Any]]:
    """The series' occurrences that exist as games, by start time."""
    response = await client.get("/api/v1/games", params={"series_id": series_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_weekly_friday_berlin_keeps_20_00_across_the_change(
    client: httpx.AsyncClient,
) -> None:
    created = await create_series(
        client,
        rrule="FREQ=WEEKLY;BYDAY=FR",
        timezone="Europe/Berlin",
        local_start="2027-03-19T20:00",
    )
    expected = [
        datetime(2027, 3, 19, 19, 0, tzinfo=UTC),
        datetime(2027, 3, 26, 19, 0, tzinfo=UTC),
        datetime(2027, 4, 2, 18, 0, tzinfo=UTC),
    ]
    assert [at(t) for t in created["next_occurrences"][:3]] == expected
    assert created["local_start"] == "2027-03-19T20:00:00"
    assert created["active"] is True

    response = await client.get(f"/api/v1/series/{created['id']}/occurrences", params={"count": 3})
    assert response.status_code == 200
    assert response.json()["occurrences"] == [
        "2027-03-19T19:00:00Z",
        "2027-03-26T19:00:00Z",
        "2027-04-02T18:00:00Z",
    ]
    # Months ahead: only the next occurrence is a game so far.
    games = await occurrence_games(client, created["id"])
    assert [at(g["scheduled_at"]) for g in games] == expected[:1]
    assert games[0]["title"] == "Friday board games"


async def test_the_occurrences_within_two_weeks_become_games_at_once(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    created = await create_series(client, reminder_minutes=[30], max_players=4)
    games = await occurrence_games(client, created["id"])
    assert [at(g["scheduled_at"]) for g in games] == [
        SOON.replace(tzinfo=UTC),
        SOON.replace(tzinfo=UTC) + timedelta(days=7),
    ]
    assert {g["max_players"] for g in games} == {4}
    assert {tuple(g["reminder_minutes"]) for g in games} == {(30,)}
    assert count_rows(session_factory, "series_schedule") == 1


async def test_ten_thousand_occurrences_are_allowed_but_only_the_horizon_is_made(
    client: httpx.AsyncClient,
) -> None:
    created = await create_series(client, rrule="FREQ=DAILY;COUNT=10000")
    games = await occurrence_games(client, created["id"])
    assert 13 <= len(games) <= 14


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"rrule": "FREQ=WEEKLY;BYDAY=FRIDAY"}, "rrule", "not a weekday"),
        ({"rrule": "every friday"}, "rrule", "NAME=VALUE"),
        (
            {
                "rrule": f"FREQ=WEEKLY;UNTIL={(SOON - timedelta(days=30)):%Y%m%d}",
                "local_start": (SOON - timedelta(days=60)).isoformat(),
            },
            "rrule",
            "every one is in the past",
        ),
        ({"rrule": "FREQ=SECONDLY"}, "rrule", "refused"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule", "refused"),
        ({"rrule": "FREQ=HOURLY"}, "rrule", "refused"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
        ({"local_start": "2027-03-19T20:00+01:00"}, "local_start", "without an offset"),
        ({"local_start": "friday"}, "local_start", ""),
    ],
)
async def test_bad_series_are_refused_and_nothing_is_half_made(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    overrides: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = await client.post("/api/v1/series", json=series_body(**overrides))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert words in error["message"]
    assert count_rows(session_factory, "game_series") == 0
    assert count_rows(session_factory, "game_sessions") == 0


async def test_editing_moves_future_games_in_place_and_keeps_their_players(
    client: httpx.AsyncClient,
) -> None:
    created = await create_series(client)
    first, second = await occurrence_games(client, created["id"])
    join = await client.post(
        f"/api/v1/games/{first['id']}/participants", json={"user_id": "444444444444444444"}
    )
    assert join.status_code == 201, join.text

    later = SOON + timedelta(hours=1)
    response = await client.patch(
        f"/api/v1/series/{created['id']}",
        json={"title": "Board games, an hour later", "local_start": later.isoformat()},
    )
    assert response.status_code == 200, response.text

    games = await occurrence_games(client, created["id"])
    assert [g["id"] for g in games] == [first["id"], second["id"]]
    assert [at(g["scheduled_at"]) for g in games] == [
        later.replace(tzinfo=UTC),
        later.replace(tzinfo=UTC) + timedelta(days=7),
    ]
    assert {g["title"] for g in games} == {"Board games, an hour later"}
    assert [p["user_id"] for p in games[0]["confirmed"]] == ["444444444444444444"]


async def test_skipping_one_occurrence_leaves_the_others(client: httpx.AsyncClient) -> None:
    created = await create_series(client)
    first, second = await occurrence_games(client, created["id"])

    response = await client.post(
        f"/api/v1/series/{created['id']}/skip", json={"occurrence": second["scheduled_at"]}
    )
    assert response.status_code == 200, response.text
    assert second["scheduled_at"] not in response.json()["next_occurrences"]

    games = {g["id"]: g for g in await occurrence_games(client, created["id"])}
    assert games[first["id"]]["status"] == "SCHEDULED"
    assert games[second["id"]]["status"] == "CANCELLED"
    # The week after the skipped one is still the series' and becomes a game in time.
    three_weeks = at(first["scheduled_at"]) + timedelta(days=14)
    assert three_weeks.isoformat().replace("+00:00", "Z") in response.json()["next_occurrences"]


async def test_skipping_an_occurrence_before_it_is_a_game(client: httpx.AsyncClient) -> None:
    created = await create_series(client)
    far = SOON.replace(tzinfo=UTC) + timedelta(days=28)
    response = await client.post(
        f"/api/v1/series/{created['id']}/skip", json={"occurrence": far.isoformat()}
    )
    assert response.status_code == 200, response.text
    assert [at(t) for t in response.json()["skipped_occurrences"]] == [far]
    not_one = await client.post(
        f"/api/v1/series/{created['id']}/skip",
        json={"occurrence": (far + timedelta(hours=1)).isoformat()},
    )
    assert not_one.status_code == 422
    assert not_one.json()["error"]["field"] == "occurrence"


async def test_ending_cancels_unstarted_games_and_refuses_edits(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    created = await create_series(client)
    response = await client.delete(f"/api/v1/series/{created['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert {g["status"] for g in await occurrence_games(client, created["id"])} == {"CANCELLED"}
    assert count_rows(session_factory, "series_schedule") == 0

    edit = await client.patch(f"/api/v1/series/{created['id']}", json={"title": "Again"})
    assert edit.status_code == 422
    assert edit.json()["error"]["code"] == "series_ended"
    assert "ended" in edit.json()["error"]["message"]


async def test_an_unknown_series_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/series/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "series_not_found"


async def test_carried_over_players_start_the_next_occurrence_seated(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    created = await create_series(client, carry_over_players=True, rrule="FREQ=WEEKLY;INTERVAL=3")
    (first,) = await occurrence_games(client, created["id"])
    for user in ("444444444444444444", "555555555555555555"):
        joined = await client.post(
            f"/api/v1/games/{first['id']}/participants", json={"user_id": user}
        )
        assert joined.status_code == 201
    # Once the first has started, the next one (three weeks on) becomes a game.
    with session_factory.begin() as session:
        made = series_service.materialise_series(
            session, created["id"], now=SOON.replace(tzinfo=UTC) + timedelta(minutes=1)
        )
        assert len(made) == 1
    games = await occurrence_games(client, created["id"])
    assert [[p["user_id"] for p in g["confirmed"]] for g in games] == [
        ["444444444444444444", "555555555555555555"]
    ] * 2


async def test_a_series_needs_a_caller(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/api/v1/series", json=series_body())
    assert response.status_code == 401
