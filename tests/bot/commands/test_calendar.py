"""`/calendar`: a person's own feed link, only to them, and a new one on request."""

from __future__ import annotations

import re
from typing import Any

import pytest

from game_scheduler.calendar.tokens import user_for_token
from tests.bot.commands.conftest import Server, World, fresh_id, seen

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]

LINK = re.compile(r"<(http://127\.0\.0\.1:8000/calendar/([A-Za-z0-9_-]{43})\.ics)>")


def _token(answer: dict[str, object]) -> str:
    match = LINK.search(seen(answer))
    assert match, seen(answer)
    return match.group(2)


def _owner(world: World, token: str) -> int | None:
    with world.sessions.begin() as session:
        return user_for_token(session, token)


async def test_calendar_gives_my_link_and_rotate_replaces_it(world: World, server: Server) -> None:
    person = fresh_id()
    where: dict[str, Any] = {
        "user_id": person,
        "channel_id": server.channel_id,
        "guild_id": server.guild_id,
    }
    first = await world.command(name="calendar", **where)
    assert first["ephemeral"] is True  # the link is a secret
    token = _token(first)
    assert "anyone with it sees your games" in seen(first)
    assert _owner(world, token) == person
    assert _token(await world.command(name="calendar", **where)) == token  # stable

    rotated = await world.command(name="calendar", rotate=True, **where)
    assert rotated["ephemeral"] is True
    assert "The old link no longer works" in seen(rotated)
    new = _token(rotated)
    assert new != token
    assert _owner(world, token) is None
    assert _owner(world, new) == person
