"""Join and leave games through the API: seats, waitlist, conflicts and a race."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import count_rows, create, outbox_events, start_game

pytestmark = pytest.mark.integration

PLAYER = "444444444444444444"
OTHER = "555555555555555555"


def _join_url(game: dict[str, object]) -> str:
    return f"/api/v1/games/{game['id']}/participants"


async def test_join_confirms_a_player_while_seats_remain(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, max_players=2)

    response = await client.post(_join_url(game), json={"user_id": PLAYER, "display_name": "Ann"})

    assert response.status_code == 201
    body = response.json()
    assert body["participant"]["user_id"] == PLAYER
    assert body["participant"]["display_name"] == "Ann"
    assert body["participant"]["waitlist_position"] is None
    assert [p["user_id"] for p in body["game"]["confirmed"]] == [PLAYER]
    assert outbox_events(session_factory)[-1] == ("game.updated", game["id"])


async def test_join_beyond_max_players_goes_on_the_waitlist_in_order(
    client: httpx.AsyncClient,
) -> None:
    game = await create(client, max_players=1)
    users = ["1001", "1002", "1003"]

    bodies = [(await client.post(_join_url(game), json={"user_id": u})).json() for u in users]

    assert [b["participant"]["waitlist_position"] for b in bodies] == [None, 1, 2]
    final = bodies[-1]["game"]
    assert [p["user_id"] for p in final["confirmed"]] == ["1001"]
    assert [p["user_id"] for p in final["waitlist"]] == ["1002", "1003"]
    assert [p["waitlist_position"] for p in final["waitlist"]] == [1, 2]


async def test_join_twice_is_409(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    await client.post(_join_url(game), json={"user_id": PLAYER})

    response = await client.post(_join_url(game), json={"user_id": PLAYER})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_joined"
    assert count_rows(session_factory, "game_participants") == 1


async def test_join_a_cancelled_game_is_409_saying_why(client: httpx.AsyncClient) -> None:
    game = await create(client)
    await client.delete(f"/api/v1/games/{game['id']}")

    response = await client.post(_join_url(game), json={"user_id": PLAYER})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "game_not_open"
    assert error["message"] == "cannot join: the game is cancelled"


async def test_join_a_started_game_is_409_saying_why(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    start_game(session_factory, game["id"])

    response = await client.post(_join_url(game), json={"user_id": PLAYER})

    assert response.status_code == 409
    assert response.json()["error"]["message"] == "cannot join: the game is in progress"


async def test_join_unknown_game_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/games/00000000-0000-0000-0000-000000000000/participants",
        json={"user_id": PLAYER},
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "user_id"),
        ({"user_id": "0"}, "user_id"),
        ({"user_id": "9223372036854775808"}, "user_id"),
        ({"user_id": "12ab"}, "user_id"),
        ({"user_id": True}, "user_id"),
        ({"user_id": PLAYER, "display_name": ""}, "display_name"),
        ({"user_id": PLAYER, "role": "admin"}, "role"),
    ],
)
async def test_join_rejects_bad_bodies(
    client: httpx.AsyncClient,
    session_factory: sessionmaker[Session],
    body: dict[str, object],
    field: str,
) -> None:
    game = await create(client)

    response = await client.post(_join_url(game), json=body)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert count_rows(session_factory, "game_participants") == 0


async def test_two_joins_racing_for_the_last_seat_confirm_exactly_one(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, max_players=1)

    responses = await asyncio.gather(
        client.post(_join_url(game), json={"user_id": PLAYER}),
        client.post(_join_url(game), json={"user_id": OTHER}),
    )

    assert [r.status_code for r in responses] == [201, 201]
    positions = sorted((r.json()["participant"]["waitlist_position"] or 0) for r in responses)
    assert positions == [0, 1]
    final = (await client.get(f"/api/v1/games/{game['id']}")).json()
    assert len(final["confirmed"]) == 1
    assert len(final["waitlist"]) == 1
    assert {final["confirmed"][0]["user_id"], final["waitlist"][0]["user_id"]} == {PLAYER, OTHER}


async def test_the_same_user_joining_twice_at_once_joins_once(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)

    responses = await asyncio.gather(
        *(client.post(_join_url(game), json={"user_id": PLAYER}) for _ in range(2))
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    assert count_rows(session_factory, "game_participants") == 1


async def test_leave_moves_the_first_waiting_player_up(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, max_players=1)
    for user in (PLAYER, OTHER):
        await client.post(_join_url(game), json={"user_id": user})

    response = await client.delete(f"{_join_url(game)}/{PLAYER}")

    assert response.status_code == 200
    body = response.json()
    assert [p["user_id"] for p in body["confirmed"]] == [OTHER]
    assert body["waitlist"] == []
    assert outbox_events(session_factory)[-1] == ("game.updated", game["id"])


async def test_leave_by_a_player_not_in_the_game_is_404(client: httpx.AsyncClient) -> None:
    game = await create(client)

    response = await client.delete(f"{_join_url(game)}/{PLAYER}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_joined"


async def test_leave_with_a_malformed_user_id_is_422(client: httpx.AsyncClient) -> None:
    game = await create(client)

    response = await client.delete(f"{_join_url(game)}/-5")

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "user_id"
