"""Posting, refreshing, reminders and cancellations, with the real database and the sandbox."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import pytest

from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.messaging.events import EventType
from tests.bot.conftest import (
    CHANNEL_ID,
    NOW,
    Wired,
    buttons,
    channel_messages,
    create_game,
    dms_of,
    footer,
    game_row,
)
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


def reminder(game_id: uuid.UUID, minutes: int = 60) -> dict[str, object]:
    """The data of a game.reminder_due event."""
    return {
        "game_id": str(game_id),
        "reminder_minutes": minutes,
        "notification_time": (NOW + timedelta(hours=2, minutes=-minutes)).isoformat(),
    }


async def test_created_posts_once_and_stores_the_message_id(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, title="Catan @everyone night", players=[11])

    data = {"game_id": str(game_id)}
    await wired.deliver(EventType.GAME_CREATED, data, message_id="c-1")
    await wired.deliver(EventType.GAME_CREATED, data, message_id="c-1")  # redelivered
    await wired.deliver(EventType.GAME_CREATED, data, message_id="c-2")  # posted already

    [message] = channel_messages(await discord_sandbox.state())
    assert int(message["id"]) == game_row(wired.sessions, game_id).message_id
    assert message["edits"] == 0  # nothing changed since the post: no edit
    embed = message["embeds"][0]
    assert "@everyone" not in embed["title"]  # escaped: it cannot ping
    assert footer(message).startswith("Scheduled")
    assert [b["custom_id"] for b in buttons(message)] == [
        f"game:join:{game_id}",
        f"game:leave:{game_id}",
    ]
    assert not any(b.get("disabled") for b in buttons(message))


async def test_many_changes_coalesce_into_few_edits_showing_the_latest(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions)
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="c-1")

    async def join(user_id: int) -> None:
        with wired.sessions.begin() as session:
            service.join_game(session, game_id, user_id, now=NOW)
        await wired.refresher.refresh(game_id)

    await asyncio.gather(*(join(100 + n) for n in range(20)))

    [message] = channel_messages(await discord_sandbox.state())
    assert message["edits"] <= 3  # one in flight, then one for everything that came meanwhile
    fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
    assert fields["Players"] == "4/4 (+16 waiting)"
    assert "<@119>" in fields["Waitlist (16)"]


async def test_a_repeated_update_of_an_unchanged_game_costs_no_edit(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions)
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="c-1")
    with wired.sessions.begin() as session:
        service.join_game(session, game_id, 11, now=NOW + timedelta(minutes=1))

    await wired.deliver(EventType.GAME_UPDATED, {"game_id": str(game_id)}, message_id="u-1")
    await wired.deliver(EventType.GAME_UPDATED, {"game_id": str(game_id)}, message_id="u-2")

    [message] = channel_messages(await discord_sandbox.state())
    assert message["edits"] == 1
    assert "<@11>" in message["embeds"][0]["fields"][5]["value"]


async def test_a_deleted_message_is_posted_anew(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions)
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="c-1")
    old_id = game_row(wired.sessions, game_id).message_id
    assert old_id is not None
    await wired.client.http.delete_message(CHANNEL_ID, old_id)
    with wired.sessions.begin() as session:  # the change the game.updated announces
        service.join_game(session, game_id, 11, now=NOW + timedelta(minutes=1))

    await wired.deliver(EventType.GAME_UPDATED, {"game_id": str(game_id)}, message_id="u-1")

    [message] = channel_messages(await discord_sandbox.state())
    new_id = game_row(wired.sessions, game_id).message_id
    assert int(message["id"]) == new_id != old_id


async def test_reminder_dms_every_player_once_and_marks_the_waitlist(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[11, 12, 13, 14, 15], max_players=4)

    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(game_id), message_id="r-1")
    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(game_id), message_id="r-1")
    # The same reminder under another message id (a republished copy) is still the same one.
    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(game_id), message_id="r-1b")

    state = await discord_sandbox.state()
    start = int((NOW + timedelta(hours=2)).timestamp())
    for user_id in (11, 12, 13, 14):
        [dm] = dms_of(state, user_id)
        assert dm["content"].startswith(f"**Catan night** starts <t:{start}:R>")
        assert "waitlist" not in dm["content"]
    [waiting] = dms_of(state, 15)
    assert "waitlist (position 1)" in waiting["content"]


async def test_reminder_for_a_started_or_cancelled_game_is_skipped(
    wired: Wired, discord_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="game_scheduler.bot")
    late = create_game(wired.sessions, players=[21])
    cancelled = create_game(wired.sessions, players=[22])
    with wired.sessions.begin() as session:
        service.cancel_game(session, cancelled, now=NOW)
    wired.clock.advance(timedelta(hours=3))  # the bot was down past the start

    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(late), message_id="r-1")
    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(cancelled), message_id="r-2")

    state = await discord_sandbox.state()
    assert dms_of(state, 21) == []
    assert dms_of(state, 22) == []
    messages = {r.getMessage() for r in caplog.records}
    assert "reminder skipped: game already started" in messages
    assert "reminder skipped: game no longer scheduled" in messages


async def test_closed_dms_become_one_channel_mention(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[31, 32, 33])
    for user_id in (31, 33):
        dm_channel = discord_sandbox.state_object.open_dm(user_id)
        await discord_sandbox.fault(f"POST /channels/{dm_channel.id}/messages", 403, code=50007)

    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(game_id), message_id="r-1")
    await wired.deliver(EventType.GAME_REMINDER_DUE, reminder(game_id, 15), message_id="r-2")

    state = await discord_sandbox.state()
    assert len(dms_of(state, 32)) == 2
    notices = channel_messages(state)
    assert len(notices) == 2  # one per reminder; 31 and 33 are remembered, not retried
    assert notices[0]["content"].startswith("<@31> <@33> **Catan night** starts")
    assert wired.messenger.dms_closed == {31, 33}


async def test_cancelled_game_shows_it_and_tells_players(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[41, 42])
    await wired.deliver(EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id="c-1")
    with wired.sessions.begin() as session:
        service.cancel_game(session, game_id, now=NOW)

    await wired.deliver(EventType.GAME_CANCELLED, {"game_id": str(game_id)}, message_id="x-1")
    await wired.deliver(EventType.GAME_CANCELLED, {"game_id": str(game_id)}, message_id="x-1")

    state = await discord_sandbox.state()
    [message] = channel_messages(state)
    assert message["embeds"][0]["title"].startswith("[Cancelled]")
    assert all(b["disabled"] for b in buttons(message))
    for user_id in (41, 42):
        [dm] = dms_of(state, user_id)
        assert "was cancelled" in dm["content"]
    assert game_row(wired.sessions, game_id).status == GameStatus.CANCELLED.value


def _latest_outbox_event(wired: Wired, event_type: str) -> tuple[str, dict[str, object]]:
    """(row id, payload) of the newest outbox event of a type, as the outbox daemon sends it."""
    from sqlalchemy import select

    from game_scheduler.db.models import EventOutbox

    with wired.sessions() as session:
        row = session.scalars(
            select(EventOutbox)
            .where(EventOutbox.event_type == event_type)
            .order_by(EventOutbox.created_at.desc(), EventOutbox.id.desc())
            .limit(1)
        ).one()
        return str(row.id), dict(row.payload)


async def test_players_moved_to_the_waitlist_by_fewer_seats_are_told_once(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[31, 32, 33, 34], max_players=4)
    with wired.sessions.begin() as session:
        service.update_game(session, game_id, {"max_players": 2}, now=NOW)
    row_id, data = _latest_outbox_event(wired, "game.updated")
    await wired.deliver(EventType.GAME_UPDATED, data, message_id=row_id)
    await wired.deliver(EventType.GAME_UPDATED, data, message_id=row_id)  # redelivered

    state = await discord_sandbox.state()
    assert dms_of(state, 31) == dms_of(state, 32) == []  # still seated: nothing to say
    [third] = dms_of(state, 33)
    [fourth] = dms_of(state, 34)
    assert "now has 2 seats" in third["content"]
    assert "waitlist (position 1)" in third["content"]
    assert "waitlist (position 2)" in fourth["content"]


async def test_more_seats_or_another_edit_tells_nobody_about_the_waitlist(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[41, 42, 43], max_players=2)
    with wired.sessions.begin() as session:
        service.update_game(session, game_id, {"max_players": 3, "title": "Bigger"}, now=NOW)
    row_id, data = _latest_outbox_event(wired, "game.updated")
    assert "moved_to_waitlist" not in data
    await wired.deliver(EventType.GAME_UPDATED, data, message_id=row_id)
    # The one who waited now has a seat, and hears only that (issue 18).
    dms = (await discord_sandbox.state())["dms"]
    assert list(dms) == ["43"]
    assert "now playing" in dms["43"][0]["content"]


async def test_a_game_cancelled_while_in_progress_says_so(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[51])
    started = NOW + timedelta(hours=2, minutes=5)
    with wired.sessions.begin() as session:
        service.apply_status_transition(session, game_id, "IN_PROGRESS", now=started)
        service.cancel_game(session, game_id, now=started)
    await wired.deliver(EventType.GAME_CANCELLED, {"game_id": str(game_id)}, message_id="ip-1")
    [dm] = dms_of(await discord_sandbox.state(), 51)
    assert "was cancelled while in progress" in dm["content"]
    assert "planned for" not in dm["content"]
