"""Check-in settings through the API: per game, per server, and a cancellation's reason."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import GUILD, START, create

pytestmark = pytest.mark.integration


def pending(sessions: sessionmaker[Session], game_id: str) -> list[tuple[str, str]]:
    """(event type, due time) of the game's check-in moments not yet fired."""
    with sessions() as session:
        rows = session.execute(
            text(
                "SELECT event_type, available_at FROM event_outbox WHERE NOT published"
                " AND event_type LIKE 'game.%_due' AND payload->>'game_id' = :g"
                " ORDER BY available_at"
            ),
            {"g": game_id},
        )
        return [(r[0], r[1].isoformat()) for r in rows]


async def test_a_game_with_check_in_plans_both_moments_and_a_move_replans_them(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, checkin_minutes=120, release_minutes=30, min_players=3)
    assert (game["checkin_minutes"], game["release_minutes"], game["min_players"]) == (120, 30, 3)
    assert [t for t, _ in pending(session_factory, game["id"])] == [
        "game.checkin_due",
        "game.release_due",
    ]

    response = await client.patch(f"/api/v1/games/{game['id']}", json={"release_minutes": None})
    assert response.status_code == 200
    assert [t for t, _ in pending(session_factory, game["id"])] == ["game.checkin_due"]

    bad = await client.patch(f"/api/v1/games/{game['id']}", json={"release_minutes": 200})
    assert bad.status_code == 422
    assert "release_minutes" in bad.text


async def test_the_server_setting_applies_unless_the_game_says_otherwise(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    default = await create(client)
    assert default["checkin_minutes"] is None  # off by default
    settings = await client.patch(
        f"/api/v1/guilds/{GUILD}/settings",
        json={"checkin_enabled": True, "release_enabled": True, "checkin_minutes": 90},
    )
    assert settings.status_code == 200
    assert settings.json()["release_minutes"] == 30

    on = await create(client)
    off = await create(client, checkin_minutes=None)

    assert (on["checkin_minutes"], on["release_minutes"]) == (90, 30)
    assert (off["checkin_minutes"], off["release_minutes"]) == (None, None)
    assert pending(session_factory, off["id"]) == []


async def test_a_cancellation_carries_its_reason_and_drops_the_check_in(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client, checkin_minutes=60, scheduled_at=START.isoformat())

    response = await client.delete(
        f"/api/v1/games/{game['id']}", params={"reason": "The host is ill"}
    )

    assert response.status_code == 200
    assert pending(session_factory, game["id"]) == []
    with session_factory() as session:
        payload = session.execute(
            text("SELECT payload FROM event_outbox WHERE event_type = 'game.cancelled'")
        ).scalar_one()
    assert payload == {"game_id": game["id"], "cancelled_by": None, "reason": "The host is ill"}
