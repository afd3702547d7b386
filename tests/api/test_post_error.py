"""The API shows why the bot could not post a game, and null while it can."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import create

pytestmark = pytest.mark.integration


async def test_a_game_shows_its_post_error(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    game = await create(client)
    assert game["post_error"] is None
    reason = "the bot cannot post in channel 222222222222222222: Missing Permissions"
    with session_factory.begin() as session:  # as the bot records it
        session.execute(
            text("UPDATE game_sessions SET post_error = :r WHERE id = :g"),
            {"r": reason, "g": game["id"]},
        )
    shown = (await client.get(f"/api/v1/games/{game['id']}")).json()
    assert shown["post_error"] == reason
    listed = (await client.get("/api/v1/games")).json()["items"]
    assert listed[0]["post_error"] == reason
