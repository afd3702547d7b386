"""`/timezone` and `/settings`, and how the commands are registered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from game_scheduler.bot.commands import register_commands
from game_scheduler.db.models import GuildSettings, UserSettings
from tests.bot.commands.conftest import Server, World, fresh_id, seen

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]


def user_zone(world: World, user_id: int) -> str | None:
    with world.sessions.begin() as session:
        row = session.get(UserSettings, user_id)
        return row.timezone if row is not None else None


def guild_row(world: World, guild_id: int) -> Any:
    with world.sessions.begin() as session:
        row = session.scalars(select(GuildSettings).where(GuildSettings.guild_id == guild_id)).one()
        session.expunge(row)
        return row


async def test_timezone_is_used_to_read_my_times(world: World, server: Server) -> None:
    user = server.host_id
    zones = await world.sandbox.autocomplete(
        "timezone",
        focused="zone",
        user_id=user,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        zone="kolk",
    )
    assert {"name": "Asia/Kolkata", "value": "Asia/Kolkata"} in zones
    answer = await world.command(
        name="timezone",
        user_id=user,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        zone="Asia/Kolkata",
    )
    assert "Your time zone is now Asia/Kolkata" in seen(answer)
    assert user_zone(world, user) == "Asia/Kolkata"
    created = await world.command(
        "create",
        user_id=user,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        title="Kolkata night",
        when="tomorrow 19:30",
    )
    assert "in Asia/Kolkata as" in seen(created)
    back = await world.command(
        name="timezone",
        user_id=user,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        zone="server",
    )
    assert "follow each server's" in seen(back)
    assert user_zone(world, user) is None


async def test_an_unknown_timezone_is_refused(world: World, server: Server) -> None:
    user = fresh_id()
    answer = await world.command(
        name="timezone",
        user_id=user,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        zone="Europe/Berlinn",
    )
    assert "I know no time zone `Europe/Berlinn`" in seen(answer)
    assert "`Europe/Berlin`" in seen(answer)
    assert user_zone(world, user) is None


async def test_a_manager_changes_the_servers_settings(world: World, server: Server) -> None:
    role = fresh_id()
    answer = await world.command(
        name="settings",
        user_id=server.manager_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        reminders="2h, 10m",
        **{"host-role": str(role)},
    )
    assert f"<@&{role}> may host games" in seen(answer)
    assert "reminders 2h and 10m before" in seen(answer)
    row = guild_row(world, server.guild_id)
    assert role in row.host_role_ids
    assert row.default_reminder_minutes == [120, 10]
    again = await world.command(
        name="settings",
        user_id=server.owner_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        **{"host-role": str(role)},
    )
    assert "no longer hosts games" in seen(again)
    assert role not in guild_row(world, server.guild_id).host_role_ids
    shown = await world.command(
        name="settings",
        user_id=server.owner_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
    )
    assert "time zone America/New_York" in seen(shown)


async def test_a_plain_member_may_not_change_settings(world: World, server: Server) -> None:
    before = guild_row(world, server.guild_id)
    answer = await world.command(
        name="settings",
        user_id=server.plain_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        timezone="Asia/Tokyo",
    )
    assert "Only the server's managers" in seen(answer)
    after = guild_row(world, server.guild_id)
    assert (after.timezone, after.updated_at) == (before.timezone, before.updated_at)


async def test_registering_again_writes_nothing(world: World) -> None:
    state = await world.sandbox.state()
    assert sorted(state["commands"]["global"]) == [
        "calendar",
        "game",
        "reminders",
        "settings",
        "timezone",
    ]
    writes = state["commands"]["overwrites"]
    assert await register_commands(world.bot.command_tree) == []
    assert (await world.sandbox.state())["commands"]["overwrites"] == writes


async def test_commands_can_be_registered_per_guild(world: World) -> None:
    guild_id = fresh_id()
    assert await register_commands(world.bot.command_tree, [guild_id]) == [str(guild_id)]
    state = await world.sandbox.state()
    registered = sorted(state["commands"]["guilds"][str(guild_id)])
    assert registered == ["calendar", "game", "reminders", "settings", "timezone"]
    assert await register_commands(world.bot.command_tree, [guild_id]) == []
