"""`/game create repeat:` makes a series, `template:` starts from a server's preset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from game_scheduler.bot.commands.people import set_user_zone
from game_scheduler.db.models import GameSeries
from game_scheduler.games import templates as template_store
from tests.bot.commands.conftest import (
    GUILD_ID,
    HOST_ID,
    SERVER_ZONE,
    Server,
    World,
    fresh_id,
    seen,
)
from tests.bot.commands.test_game_create import message_in, next_friday_8pm

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]


def series_of(world: World, channel_id: int) -> GameSeries:
    with world.sessions.begin() as session:
        series = session.scalars(
            select(GameSeries).where(GameSeries.channel_id == channel_id)
        ).one()
        session.expunge(series)
        return series


def make_template(world: World, guild_id: int, name: str, **fields: Any) -> str:
    with world.sessions.begin() as session:
        template = template_store.create_template(
            session,
            template_store.NewTemplate(guild_id=guild_id, name=name, **fields),
            now=datetime.now(UTC),
        )
        return str(template.id)


async def create(world: World, **options: Any) -> str:
    """Type `/game create` as the sandbox server's host; what the answer says."""
    answer = await world.command("create", user_id=HOST_ID, **options)
    assert answer["ephemeral"] is True
    return seen(answer)


async def test_repeat_weekly_makes_a_series_at_8pm_in_the_servers_zone(world: World) -> None:
    channel_id = fresh_id()
    text = await create(
        world,
        channel_id=channel_id,
        title="Weekly raid",
        when="friday 8pm",
        seats="4",
        repeat="weekly",
    )
    first = next_friday_8pm(datetime.now(UTC))
    series = series_of(world, channel_id)
    assert (series.rrule, series.timezone) == ("FREQ=WEEKLY;BYDAY=FR", SERVER_ZONE)
    assert series.local_start == first.astimezone(ZoneInfo(SERVER_ZONE)).replace(tzinfo=None)
    games = world.games(series_id=series.id)
    assert games[0].scheduled_at == first
    berlin = ZoneInfo(SERVER_ZONE)
    assert {f"{g.scheduled_at.astimezone(berlin):%a %H:%M}" for g in games} == {"Fri 20:00"}
    assert len(games) >= 2  # the next two Fridays are within the two-week horizon
    assert {g.max_players for g in games} == {4}
    assert "Created the series **Weekly raid**: every Friday at 20:00 (Europe/Berlin)" in text
    assert f"Next: <t:{int(first.timestamp())}:F>" in text
    assert "in Europe/Berlin as Friday" in text
    await message_in(world, channel_id, "Weekly raid")


async def test_repeat_monthly_keeps_the_numbered_weekday(world: World) -> None:
    channel_id = fresh_id()
    text = await create(
        world,
        channel_id=channel_id,
        title="Monthly",
        when="2027-03-19 20:00",
        repeat="monthly",
    )
    assert series_of(world, channel_id).rrule == "FREQ=MONTHLY;BYDAY=3FR"
    assert "the third Friday of every month at 20:00 (Europe/Berlin)" in text


async def test_a_series_that_cannot_be_made_creates_nothing(world: World) -> None:
    before = world.game_count()
    text = await create(
        world, channel_id=fresh_id(), title="x" * 300, when="friday 8pm", repeat="biweekly"
    )
    assert "`title` must be 1 to 200 characters" in text
    assert "Nothing was created" in text
    assert world.game_count() == before


async def test_a_template_fills_what_was_not_typed(world: World) -> None:
    there = fresh_id()
    make_template(
        world,
        GUILD_ID,
        "Raid preset",
        channel_id=there,
        title="Raid from preset",
        description="Bring potions",
        max_players=8,
        expected_duration_minutes=180,
        reminder_minutes=[1440],
    )
    text = await create(
        world, channel_id=fresh_id(), when="tomorrow 19:30", seats="5", template="raid preset"
    )
    [game] = world.games(title="Raid from preset")
    assert game.channel_id == there
    assert (game.max_players, game.expected_duration_minutes) == (5, 180)  # typed seats win
    assert (game.reminder_minutes, game.description) == ([1440], "Bring potions")
    assert "Started from the template **Raid preset**" in text
    await message_in(world, there, "Raid from preset")


async def test_template_names_autocomplete_for_the_roles_allowed(
    world: World, server: Server
) -> None:
    make_template(world, server.guild_id, "Open table")
    make_template(world, server.guild_id, "Hosts only", allowed_role_ids=[server.host_role_id])
    make_template(world, server.guild_id, "Staff only", allowed_role_ids=[fresh_id()])

    async def offered(user_id: int) -> list[str]:
        choices = await world.sandbox.autocomplete(
            "game",
            "create",
            focused="template",
            user_id=user_id,
            channel_id=server.channel_id,
            guild_id=server.guild_id,
            when="tomorrow 19:30",
            template="",
        )
        return [c["name"] for c in choices]

    assert await offered(server.host_id) == ["Hosts only", "Open table"]
    assert await offered(server.manager_id) == ["Hosts only", "Open table", "Staff only"]
    assert await offered(server.plain_id) == []


async def test_bad_templates_are_refused_and_create_nothing(world: World, server: Server) -> None:
    staff_only = make_template(
        world, server.guild_id, "Staff night", title="Staff", allowed_role_ids=[fresh_id()]
    )
    elsewhere = make_template(world, GUILD_ID, "Elsewhere", title="Elsewhere")
    before = world.game_count()
    for template, words in [
        ("no such preset", "This server has no template `no such preset`"),
        (elsewhere, "This server has no template"),
        (staff_only, "is for <@&"),
    ]:
        answer = await world.command(
            "create",
            user_id=server.host_id,
            channel_id=server.channel_id,
            guild_id=server.guild_id,
            when="tomorrow 19:30",
            template=template,
        )
        assert words in seen(answer)
        assert "Nothing was created" in seen(answer)
    no_title = await world.command(
        "create",
        user_id=server.host_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        when="tomorrow 19:30",
    )
    assert "Give a `title`" in seen(no_title)
    assert world.game_count() == before


async def test_a_series_keeps_the_servers_zone_whoever_types_it(world: World) -> None:
    """A member in New York types 2pm in a Berlin server: 20:00 Berlin, every week."""
    new_yorker, channel_id = fresh_id(), fresh_id()
    with world.sessions.begin() as session:
        set_user_zone(session, new_yorker, "America/New_York", datetime.now(UTC))
    answer = await world.command(
        "create",
        user_id=new_yorker,
        channel_id=channel_id,
        title="Across the ocean",
        when="2027-06-04 14:00",  # a Friday; New York and Berlin are six hours apart
        repeat="weekly",
    )
    series = series_of(world, channel_id)
    assert (series.timezone, series.local_start) == (SERVER_ZONE, datetime(2027, 6, 4, 20, 0))
    [first] = world.games(series_id=series.id)
    assert first.scheduled_at == datetime(2027, 6, 4, 18, 0, tzinfo=UTC)
    assert "every Friday at 20:00 (Europe/Berlin)" in seen(answer)
    assert "in America/New_York as Friday" in seen(answer)
