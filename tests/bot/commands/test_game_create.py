"""`/game create` through the sandbox: the game, its message, and a clear answer to bad input."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.bot.commands.conftest import GUILD_ID, HOST_ID, SERVER_ZONE, World, fresh_id, seen

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]

BERLIN = ZoneInfo(SERVER_ZONE)


def next_friday_8pm(now: datetime) -> datetime:
    """Friday 20:00 in Berlin: today if still ahead, else the coming Friday."""
    local = now.astimezone(BERLIN)
    days = (4 - local.weekday()) % 7
    candidate = (local + timedelta(days=days)).replace(hour=20, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=7)
    return candidate.replace(tzinfo=None).replace(tzinfo=BERLIN).astimezone(UTC)


async def message_in(world: World, channel_id: int, title: str) -> dict[str, object]:
    """Wait for the game's message in a channel."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = await world.sandbox.state()
        for message in state["channels"].get(str(channel_id), []):
            if message["embeds"] and message["embeds"][0].get("title") == title:
                return dict(message)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message for {title} in {channel_id}")


async def test_create_posts_the_game_for_friday_8pm_in_the_servers_zone(world: World) -> None:
    channel_id = fresh_id()
    answer = await world.command(
        "create",
        user_id=HOST_ID,
        channel_id=channel_id,
        title="Raid",
        when="friday 8pm",
        seats="4",
    )
    [game] = world.games(channel_id=channel_id)
    expected = next_friday_8pm(datetime.now(UTC))
    assert game.scheduled_at == expected
    assert (game.title, game.max_players, game.host_id, game.guild_id) == (
        "Raid",
        4,
        HOST_ID,
        GUILD_ID,
    )
    text = seen(answer)
    assert answer["ephemeral"] is True
    assert f"<t:{int(expected.timestamp())}:F>" in text
    assert "Created **Raid**" in text
    assert "in Europe/Berlin as Friday" in text
    assert "20:00 (UTC+0" in text
    message = await message_in(world, channel_id, "Raid")
    assert message["components"], "the game message has its Join and Leave buttons"


async def test_create_takes_every_option(world: World) -> None:
    here, there = fresh_id(), fresh_id()
    answer = await world.command(
        "create",
        user_id=HOST_ID,
        channel_id=here,
        title="Catan",
        when="in 3 hours",
        seats="5",
        duration="1h30",
        reminders="1d, 2h, 15m",
        where="Table 2",
        description="Bring snacks",
        channel=str(there),
    )
    [game] = world.games(title="Catan")
    assert game.channel_id == there
    assert game.expected_duration_minutes == 90
    assert game.reminder_minutes == [1440, 120, 15]
    assert (game.where, game.description) == ("Table 2", "Bring snacks")
    assert abs(game.scheduled_at - (datetime.now(UTC) + timedelta(hours=3))) < timedelta(minutes=1)
    assert "reminders 1d, 2h and 15m before" in seen(answer)
    assert "1h 30m" in seen(answer)
    await message_in(world, there, "Catan")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"when": "fridya 8pm"}, ["'fridya' I did not", "'8pm' I understood", "`friday 8pm`"]),
        ({"when": "2020-01-01 20:00"}, ["in the past", "1 January 2020"]),
        # The last Sunday of March 2027: Berlin's clocks jump from 02:00 to 03:00.
        ({"when": "2027-03-28 02:30"}, ["02:30 does not exist", "Did you mean 03:30?"]),
        ({"seats": "0"}, ["`seats` must be 1 to 100"]),
        ({"seats": "10000"}, ["`seats` must be 1 to 100"]),
        ({"duration": "0"}, ["`duration` must be 1 minute to 7 days"]),
        ({"duration": "30 days"}, ["`duration` must be 1 minute to 7 days", "30 days"]),
        ({"duration": "soon"}, ["`duration`", "no duration I know", "`90m`"]),
        ({"reminders": ", ".join(f"{m}m" for m in range(1, 51))}, ["at most 10 reminders"]),
        ({"reminders": "1d, later"}, ["'later'", "`1d, 2h, 15m`"]),
        ({"title": "x" * 300}, ["`title` must be 1 to 200 characters (yours has 300)"]),
        ({"description": "x" * 4001}, ["`description` must be at most 4000 characters"]),
        ({"where": "x" * 1001}, ["`where` must be at most 1000 characters"]),
    ],
)
async def test_bad_input_is_answered_and_creates_nothing(
    world: World, options: dict[str, str], words: list[str]
) -> None:
    before = world.game_count()
    fields = {"title": "Bad input", "when": "tomorrow 19:30", **options}
    answer = await world.command("create", user_id=HOST_ID, channel_id=fresh_id(), **fields)
    text = seen(answer)
    for word in words:
        assert word in text, text
    assert answer["ephemeral"] is True
    assert world.game_count() == before


async def test_an_ambiguous_time_takes_the_first_and_says_so(world: World) -> None:
    channel_id = fresh_id()
    # The last Sunday of October 2027: Berlin's clocks go from 03:00 back to 02:00.
    answer = await world.command(
        "create",
        user_id=HOST_ID,
        channel_id=channel_id,
        title="Night owls",
        when="2027-10-31 02:30",
    )
    [game] = world.games(channel_id=channel_id)
    assert game.scheduled_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 summer time
    assert "happens twice" in seen(answer)
    assert "I took the first" in seen(answer)


async def test_a_channel_the_bot_cannot_post_in_is_refused(world: World) -> None:
    channel_id = fresh_id()
    async with world.sandbox.session.post(
        f"{world.sandbox.url}/sandbox/bot-permissions",
        json={"channel_id": str(channel_id), "deny": str(1 << 11)},
    ) as response:
        assert response.status == 200
    before = world.game_count()
    answer = await world.command(
        "create", user_id=HOST_ID, channel_id=channel_id, title="Hidden", when="tomorrow 19:30"
    )
    assert f"I cannot post in <#{channel_id}>" in seen(answer)
    assert world.game_count() == before
