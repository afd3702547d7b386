"""Check-in: the DM with its buttons, answers, releases, moves and cancellations, on the sandbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from game_scheduler.db.models import EventOutbox, GuildSettings
from game_scheduler.games import service
from game_scheduler.games.settings import update_user_settings
from game_scheduler.messaging.events import EventType
from tests.bot.conftest import (
    GUILD_ID,
    HOST_ID,
    NOW,
    buttons,
    channel_messages,
    create_game,
    dms_of,
    game_row,
)
from tests.bot.news_fixtures import NewsBot
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

CHECKIN = EventType.GAME_CHECKIN_DUE
RELEASE = EventType.GAME_RELEASE_DUE
UPDATED = EventType.GAME_UPDATED


def checkin_game(bot: NewsBot, players: list[int], **fields: Any) -> uuid.UUID:
    """A game three hours ahead with check-in at 120 and release at 30 minutes."""
    values: dict[str, Any] = {"checkin_minutes": 120, "release_minutes": 30, **fields}
    return create_game(bot.sessions, starts_in=timedelta(hours=3), players=players, **values)


async def posted_and_asked(bot: NewsBot, game_id: uuid.UUID, *, times: int = 1) -> None:
    """Post the game (dropping its join confirmations) and deliver its check-in."""
    bot.take(UPDATED)
    await bot.deliver_all(EventType.GAME_CREATED)
    await bot.deliver_all(CHECKIN, times=times)


def checkin_dm(state: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The one check-in DM a user holds."""
    [dm] = [m for m in dms_of(state, user_id) if m["components"]]
    return dm


async def press(sandbox: SandboxHandle, dm: dict[str, Any], label: str, user_id: int) -> str:
    """Press a check-in button as a user; the bot's private answer."""
    custom_id = next(b["custom_id"] for b in buttons(dm) if b["label"] == label)
    answer = await sandbox.click(dm["id"], custom_id, user_id)
    assert answer["response"]["ephemeral"]
    return str(answer["response"]["content"])


def pending_checkins(bot: NewsBot, game_id: uuid.UUID) -> list[tuple[str, Any, str]]:
    """The game's check-in moments not yet fired: (event type, due time, start asked about)."""
    with bot.sessions.begin() as session:
        rows = session.scalars(
            select(EventOutbox)
            .where(~EventOutbox.published, EventOutbox.event_type.in_([CHECKIN, RELEASE]))
            .order_by(EventOutbox.available_at)
        )
        return [
            (r.event_type, r.available_at, r.payload["scheduled_for"])
            for r in rows
            if r.payload["game_id"] == str(game_id)
        ]


async def test_check_in_is_planned_asked_once_and_answered(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = checkin_game(news_bot, [11, HOST_ID, 12, 13], max_players=3)
    start = game_row(news_bot.sessions, game_id).scheduled_at
    assert pending_checkins(news_bot, game_id) == [
        (CHECKIN.value, start - timedelta(minutes=120), start.isoformat()),
        (RELEASE.value, start - timedelta(minutes=30), start.isoformat()),
    ]

    await posted_and_asked(news_bot, game_id, times=2)  # the second is a redelivery

    state = await discord_sandbox.state()
    dm = checkin_dm(state, 11)
    assert dm["content"].startswith("**Catan night** starts")
    assert "Are you coming?" in dm["content"]
    assert [b["label"] for b in buttons(dm)] == ["I'm coming", "Can't make it"]
    assert checkin_dm(state, 12)
    assert dms_of(state, HOST_ID) == []  # the host, though playing, is not asked
    assert dms_of(state, 13) == []  # waiting: no seat to confirm
    assert news_bot.dms_counted("checkin") == 2

    assert await press(discord_sandbox, dm, "I'm coming", 11) == (
        "Thanks, you are checked in. See you there!"
    )
    assert await press(discord_sandbox, dm, "I'm coming", 11) == "You are already checked in."
    # Someone who is not playing presses a button they were shown.
    assert (await press(discord_sandbox, dm, "I'm coming", 99)).startswith(
        "You do not have a seat in this game"
    )


async def test_cant_make_it_frees_the_seat_and_the_first_waiting_player_is_told(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = checkin_game(news_bot, [11, 12, 13], max_players=2)
    await posted_and_asked(news_bot, game_id)
    dm = checkin_dm(await discord_sandbox.state(), 12)

    answer = await press(discord_sandbox, dm, "Can't make it", 12)
    await news_bot.deliver_all(UPDATED, times=2)

    assert answer.startswith("Thanks for telling us: your seat is free")
    state = await discord_sandbox.state()
    [promoted] = dms_of(state, 13)
    assert "you moved up from the waitlist and are now playing" in promoted["content"]
    assert [p.user_id for p in game_row(news_bot.sessions, game_id).participants] == [11, 13]
    fields = {f["name"]: f["value"] for f in channel_messages(state)[0]["embeds"][0]["fields"]}
    assert fields["Playing (2)"] == "1. <@11>\n2. <@13>"
    again = await press(discord_sandbox, dm, "Can't make it", 12)
    assert again == "You already gave up your seat in this game."


async def test_the_release_gives_unanswered_seats_to_the_waitlist_once(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = checkin_game(news_bot, [11, 12, 13, HOST_ID, 14], max_players=3)
    await posted_and_asked(news_bot, game_id)
    state = await discord_sandbox.state()
    await press(discord_sandbox, checkin_dm(state, 12), "I'm coming", 12)

    await news_bot.deliver_all(RELEASE, times=2)
    await news_bot.deliver_all(UPDATED, times=2)

    # 11 and 13 did not answer; two wait (the host and 14), so both lose their seats, 13
    # (the later joiner) first. The host, though waiting, is never asked nor released.
    roster = service.roster_of(game_row(news_bot.sessions, game_id))
    assert [p.user_id for p in roster.confirmed] == [12, HOST_ID, 14]
    state = await discord_sandbox.state()
    for user_id in (11, 13):
        released = dms_of(state, user_id)[-1]
        assert "You did not answer the check-in for **Catan night**" in released["content"]
    [promoted] = dms_of(state, 14)
    assert "now playing" in promoted["content"]
    released_note = [m for m in dms_of(state, HOST_ID) if "did not check in" in m["content"]]
    assert len(released_note) == 1
    assert released_note[0]["content"].startswith("<@11> and <@13> did not check in")
    assert news_bot.dms_counted("released") == 2


async def test_a_move_after_check_in_makes_old_answers_and_moments_count_for_nothing(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = checkin_game(news_bot, [11, 12, 13], max_players=2)
    old = game_row(news_bot.sessions, game_id).scheduled_at
    release = next(w for w in news_bot.take(RELEASE))  # fired late, after the move
    await posted_and_asked(news_bot, game_id)
    new = old + timedelta(hours=5)
    with news_bot.sessions.begin() as session:
        service.update_game(session, game_id, {"scheduled_at": new}, now=NOW)

    answer = await press(
        discord_sandbox, checkin_dm(await discord_sandbox.state(), 11), "Can't make it", 11
    )
    await news_bot.deliver(release)

    assert answer.startswith(f"The game has moved to <t:{int(new.timestamp())}:F>")
    assert len(game_row(news_bot.sessions, game_id).participants) == 3  # nobody left
    assert [(t, s) for t, _, s in pending_checkins(news_bot, game_id)] == [
        (CHECKIN.value, new.isoformat()),
        (RELEASE.value, new.isoformat()),
    ]
    await news_bot.deliver_all(CHECKIN)  # the new time's check-in asks again
    assert len([m for m in dms_of(await discord_sandbox.state(), 11) if m["components"]]) == 2


async def test_a_cancelled_games_check_in_never_fires_and_a_late_press_is_refused(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = checkin_game(news_bot, [11, 12])
    late = news_bot.take(CHECKIN)[0]  # published just before the cancellation
    with news_bot.sessions.begin() as session:
        service.cancel_game(session, game_id, now=NOW)

    assert pending_checkins(news_bot, game_id) == []
    await news_bot.deliver(late)
    assert dms_of(await discord_sandbox.state(), 11) == []

    started = checkin_game(news_bot, [21, 22])
    await posted_and_asked(news_bot, started)
    news_bot.clock.advance(timedelta(hours=3, seconds=1))
    dm = checkin_dm(await discord_sandbox.state(), 21)
    assert (await press(discord_sandbox, dm, "I'm coming", 21)).startswith("Check-in is over")


async def test_short_of_players_tells_the_host_and_the_server_setting_applies(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    with news_bot.sessions.begin() as session:
        session.add(GuildSettings(guild_id=GUILD_ID, checkin_enabled=True, checkin_minutes=90))
        update_user_settings(session, 12, {"dm_reminders": False}, now=NOW)
    game_id = create_game(
        news_bot.sessions, starts_in=timedelta(hours=3), players=[11, 12], min_players=4
    )
    assert [t for t, _, _ in pending_checkins(news_bot, game_id)] == [CHECKIN.value]

    await posted_and_asked(news_bot, game_id, times=2)

    state = await discord_sandbox.state()
    assert checkin_dm(state, 11)
    assert dms_of(state, 12) == []  # turned reminders off
    [short] = dms_of(state, HOST_ID)
    assert "is short of players: 2 confirmed, at least 4 needed" in short["content"]


async def test_closed_dms_for_50_players_make_one_channel_message_and_release_nobody(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    players = list(range(2001, 2051))
    game_id = checkin_game(news_bot, [*players, 3001], max_players=50)
    for user_id in players:
        dm_channel = discord_sandbox.state_object.open_dm(user_id)
        await discord_sandbox.fault(f"POST /channels/{dm_channel.id}/messages", 403, code=50007)

    await posted_and_asked(news_bot, game_id, times=2)
    await news_bot.deliver_all(RELEASE)

    notices = channel_messages(await discord_sandbox.state())[1:]
    assert len(notices) == 1
    assert "check-in is open" in notices[0]["content"]
    assert news_bot.dms_counted("checkin", "channel_mention") == 50
    # The buttons never reached them, so nobody loses a seat for not pressing one.
    assert len(service.roster_of(game_row(news_bot.sessions, game_id)).confirmed) == 50
