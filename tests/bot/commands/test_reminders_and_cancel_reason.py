"""`/reminders off|on`, and `/game cancel` with a reason the players are told."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from game_scheduler.db.models import GameSession, GuildSettings, UserSettings
from tests.bot.commands.conftest import Server, World, fresh_id, seen
from tests.bot.commands.test_game_manage import make_game, run

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]


def dm_reminders(world: World, user_id: int) -> bool | None:
    with world.sessions.begin() as session:
        row = session.get(UserSettings, user_id)
        return row.dm_reminders if row is not None else None


async def reminders(world: World, server: Server, user_id: int, setting: str) -> dict[str, Any]:
    return await world.command(
        name="reminders",
        user_id=user_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        setting=setting,
    )


async def test_reminders_off_and_on_again(world: World, server: Server) -> None:
    user = fresh_id()
    off = await reminders(world, server, user, "off")
    assert "Reminders are off" in seen(off)
    assert dm_reminders(world, user) is False
    on = await reminders(world, server, user, "on")
    assert "Reminders are on" in seen(on)
    assert dm_reminders(world, user) is True


async def test_a_cancellation_with_a_reason_says_who_and_why(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Rainy day", server.host_id)
    asked = await run(
        world, server, "cancel", server.host_id, game=str(game_id), reason="Storm warning"
    )
    question = asked["followups"][-1]
    confirm = next(
        b
        for row in question["components"]
        for b in row["components"]
        if b["label"] == "Cancel the game"
    )
    await world.sandbox.click(question["id"], confirm["custom_id"], server.host_id)
    with world.sessions.begin() as session:
        payload = session.execute(
            text(
                "SELECT payload FROM event_outbox WHERE event_type = 'game.cancelled'"
                " AND payload->>'game_id' = :g"
            ),
            {"g": str(game_id)},
        ).scalar_one()
    assert payload["reason"] == "Storm warning"
    assert payload["cancelled_by"] == str(server.host_id)


async def test_settings_turn_check_in_on_for_new_games(world: World, server: Server) -> None:
    async def settings(**options: str) -> str:
        answer = await world.command(
            name="settings",
            user_id=server.manager_id,
            channel_id=server.channel_id,
            guild_id=server.guild_id,
            **options,
        )
        return seen(answer)

    assert "check in 1h 30m before" in await settings(checkin="90m", release="20m")
    with world.sessions.begin() as session:
        row = session.get(GuildSettings, server.guild_id)
        assert row is not None
        assert (row.checkin_enabled, row.checkin_minutes) == (True, 90)
        assert (row.release_enabled, row.release_minutes) == (True, 20)
    refused = await settings(release="2h")
    assert "`release` must come after the check-in" in refused
    assert "new games have no check-in" in await settings(checkin="off")
    game_id = make_game(world, server, "No check-in", server.host_id)
    with world.sessions.begin() as session:
        game = session.get(GameSession, game_id)
        assert game is not None
        assert game.checkin_minutes is None
