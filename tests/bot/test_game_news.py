"""Players and hosts are told what changed, once each: the real handlers, DMs on the sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from game_scheduler.games import service
from game_scheduler.games.settings import update_user_settings
from game_scheduler.messaging.events import EventType
from tests.bot.conftest import (
    HOST_ID,
    NOW,
    channel_messages,
    create_game,
    dms_of,
    game_row,
)
from tests.bot.news_fixtures import NewsBot
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

UPDATED = EventType.GAME_UPDATED


def unix(moment: object) -> int:
    """A datetime's Unix time, as Discord timestamps carry it."""
    return int(moment.timestamp())  # type: ignore[attr-defined]


async def posted(bot: NewsBot, game_id: object) -> str:
    """Post the game; the link to its message. (The joins that made the roster, each with
    its own confirmation DM, are tested on their own.)"""
    bot.take(UPDATED)
    await bot.deliver_all(EventType.GAME_CREATED)
    game = game_row(bot.sessions, game_id)  # type: ignore[arg-type]
    return f"https://discord.com/channels/{game.guild_id}/{game.channel_id}/{game.message_id}"


async def test_a_leave_promotes_the_first_waiting_player_who_is_told_once(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, 12, 13, 14], max_players=2)
    link = await posted(news_bot, game_id)
    edits = channel_messages(await discord_sandbox.state())[0]["edits"]
    with news_bot.sessions.begin() as session:
        service.leave_game(session, game_id, 11, now=NOW)

    await news_bot.deliver_all(UPDATED, times=2)  # the second is a redelivery

    state = await discord_sandbox.state()
    [dm] = dms_of(state, 13)
    assert "you moved up from the waitlist and are now playing" in dm["content"]
    assert "**Catan night**" in dm["content"]
    assert link in dm["content"]
    assert dms_of(state, 14) == []  # still waiting: no news for them
    [message] = channel_messages(state)
    assert message["edits"] == edits + 1  # the promotion and the new positions, in one edit
    fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
    assert fields["Playing (2)"] == "1. <@12>\n2. <@13>"
    assert fields["Waitlist (1)"] == "1. <@14>"
    assert news_bot.dms_counted("promoted") == 1
    # The host hears that their full game lost a player, and who took the seat.
    [to_host] = dms_of(state, HOST_ID)
    assert to_host["content"].startswith("<@11> left **Catan night**")
    assert "<@13> moved up from the waitlist" in to_host["content"]
    assert news_bot.dms_counted("host_left") == 1


async def test_two_leaves_at_once_with_one_waiting_make_one_promotion_and_one_dm(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, 12, 13], max_players=2)
    await posted(news_bot, game_id)

    def leave(user_id: int) -> None:
        with news_bot.sessions.begin() as session:
            service.leave_game(session, game_id, user_id, now=NOW)

    await asyncio.gather(asyncio.to_thread(leave, 11), asyncio.to_thread(leave, 12))
    taken = await news_bot.deliver_all(UPDATED)

    assert len(taken) == 2
    assert len(dms_of(await discord_sandbox.state(), 13)) == 1
    assert news_bot.dms_counted("promoted") == 1


async def test_a_removal_and_more_seats_promote_and_the_removed_player_is_told(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, 12, 13, 14], max_players=2)
    await posted(news_bot, game_id)
    with news_bot.sessions.begin() as session:
        game = service.get_game(session, game_id)
        participant = next(p for p in game.participants if p.user_id == 11)
        service.remove_participant(session, game_id, participant.id, now=NOW)
    with news_bot.sessions.begin() as session:
        service.update_game(session, game_id, {"max_players": 3}, now=NOW)

    await news_bot.deliver_all(UPDATED)

    state = await discord_sandbox.state()
    [removed] = dms_of(state, 11)
    assert removed["content"].startswith("The host removed you from **Catan night**")
    [by_removal] = dms_of(state, 13)
    [by_seats] = dms_of(state, 14)
    assert "now playing" in by_removal["content"]
    assert "now playing" in by_seats["content"]


async def test_a_moved_game_tells_every_player_the_old_and_new_time(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, HOST_ID, 13], max_players=2)
    link = await posted(news_bot, game_id)
    old = game_row(news_bot.sessions, game_id).scheduled_at
    new = old + timedelta(days=1, hours=1)
    with news_bot.sessions.begin() as session:
        service.update_game(session, game_id, {"scheduled_at": new}, now=NOW)

    await news_bot.deliver_all(UPDATED, times=2)

    state = await discord_sandbox.state()
    for user_id in (11, 13):  # the waiting player too
        [dm] = dms_of(state, user_id)
        assert dm["content"] == (
            f"**Catan night** moved from <t:{unix(old)}:F> to <t:{unix(new)}:F>"
            f" (<t:{unix(new)}:R>).\n{link}"
        )
    assert dms_of(state, HOST_ID) == []  # the host moved it: a host who plays is not told
    assert news_bot.dms_counted("moved") == 2


async def test_a_cancellation_says_by_whom_and_why(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, HOST_ID, 13], max_players=2)
    await posted(news_bot, game_id)
    with news_bot.sessions.begin() as session:
        service.cancel_game(
            session, game_id, now=NOW, cancelled_by=HOST_ID, reason="Half of us have the flu"
        )

    await news_bot.deliver_all(EventType.GAME_CANCELLED, times=2)

    state = await discord_sandbox.state()
    for user_id in (11, 13):
        [dm] = dms_of(state, user_id)
        assert f"was cancelled. Cancelled by <@{HOST_ID}>." in dm["content"]
        assert "\nReason: Half of us have the flu" in dm["content"]
    assert dms_of(state, HOST_ID) == []


async def test_a_join_is_confirmed_with_the_signup_instructions_unless_dms_are_off(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(
        news_bot.sessions, max_players=1, signup_instructions="Bring your own dice"
    )
    await posted(news_bot, game_id)
    with news_bot.sessions.begin() as session:
        update_user_settings(session, 12, {"dm_reminders": False}, now=NOW)
    for user_id in (11, 12, 13):
        with news_bot.sessions.begin() as session:
            service.join_game(session, game_id, user_id, now=NOW)

    await news_bot.deliver_all(UPDATED, times=2)

    state = await discord_sandbox.state()
    [seated] = dms_of(state, 11)
    assert seated["content"].startswith("You joined **Catan night**")
    assert "How to sign up: Bring your own dice" in seated["content"]
    assert dms_of(state, 12) == []  # reminders off: no confirmation either
    [waiting] = dms_of(state, 13)
    assert "you are on the waitlist (position 2)" in waiting["content"]


async def test_closed_dms_for_a_whole_50_player_game_make_one_channel_message(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    players = list(range(1001, 1051))
    game_id = create_game(news_bot.sessions, players=players, max_players=None)
    await posted(news_bot, game_id)
    for user_id in players:
        dm_channel = discord_sandbox.state_object.open_dm(user_id)
        await discord_sandbox.fault(f"POST /channels/{dm_channel.id}/messages", 403, code=50007)
    new = game_row(news_bot.sessions, game_id).scheduled_at + timedelta(hours=1)
    with news_bot.sessions.begin() as session:
        service.update_game(session, game_id, {"scheduled_at": new}, now=NOW)

    await news_bot.deliver_all(UPDATED, times=2)

    state = await discord_sandbox.state()
    notices = channel_messages(state)[1:]  # after the game's own message
    assert len(notices) == 1
    assert notices[0]["content"].startswith("<@1001> <@1002>")
    assert "moved from" in notices[0]["content"]
    assert news_bot.dms_counted("moved", "channel_mention") == 50
    assert all(dms_of(state, u) == [] for u in players)


async def test_a_host_moving_a_player_up_tells_both_who_moved(
    news_bot: NewsBot, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(news_bot.sessions, players=[11, 12, 13], max_players=2)
    await posted(news_bot, game_id)
    with news_bot.sessions.begin() as session:
        game = service.get_game(session, game_id)
        waiting = next(p for p in game.participants if p.user_id == 13)
        service.move_up(session, game_id, waiting.id, now=NOW)

    await news_bot.deliver_all(UPDATED, times=2)

    state = await discord_sandbox.state()
    [up] = dms_of(state, 13)
    [down] = dms_of(state, 12)
    assert "now playing" in up["content"]
    assert down["content"].startswith("The host moved another player up in **Catan night**")
    assert "waitlist (position 1)" in down["content"]
