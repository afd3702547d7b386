"""The consumer's fast path: events that need no Discord call are settled in one batch."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from game_scheduler.bot.direct_messages import recorded_keys
from game_scheduler.bot.events.fast_path import EventTriage
from game_scheduler.games import service
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.schemas import (
    GameReminderDueEvent,
    GameStatusTransitionDueEvent,
    GameUpdatedEvent,
    Payload,
)
from tests.bot.conftest import Wired, create_game
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

WHEN = datetime(2031, 5, 1, 20, 0, tzinfo=UTC)


def received(
    event_type: EventType, payload: Payload, message_id: str | None = None
) -> ReceivedEvent:
    """A delivery as the consumer hands it over."""
    event = Event(event_type=event_type, data=payload.model_dump(mode="json"))
    return ReceivedEvent.of(event, message_id or str(uuid.uuid4()))


async def test_duplicates_missing_games_and_unchanged_games_need_no_discord_call(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    shown = create_game(wired.sessions, players=[11])
    changed = create_game(wired.sessions, players=[12])
    await wired.refresher.refresh(shown)  # posted: its message shows this version
    await wired.refresher.refresh(changed)
    done_before = received(EventType.GAME_UPDATED, GameUpdatedEvent(game_id=changed))
    await wired.deliver(
        EventType.GAME_UPDATED, done_before.event.data, message_id=done_before.message_id
    )
    requests_before = discord_sandbox.state_object.rate_limiter.global_limit.counted

    gone = uuid.uuid4()
    stale = [
        received(
            EventType.GAME_REMINDER_DUE,
            GameReminderDueEvent(game_id=gone, reminder_minutes=60, notification_time=WHEN),
        )
        for _ in range(300)
    ]
    stale += [received(EventType.GAME_UPDATED, GameUpdatedEvent(game_id=shown)) for _ in range(300)]
    stale.append(done_before)  # handled already: a redelivery
    stale.append(
        received(
            EventType.GAME_STATUS_TRANSITION_DUE,
            GameStatusTransitionDueEvent(
                game_id=gone, target_status="IN_PROGRESS", transition_time=WHEN
            ),
        )
    )
    moved = received(
        EventType.GAME_UPDATED, GameUpdatedEvent(game_id=changed, moved_to_waitlist=[12])
    )
    triage = EventTriage(wired.sessions, wired.refresher)

    started = time.monotonic()
    settled = await triage([*stale, moved])
    elapsed = time.monotonic() - started

    assert settled == {e.message_id for e in stale}
    assert moved.message_id not in settled  # someone to tell of the waitlist: the handler
    assert elapsed < 2.0  # one query for the batch, not one per event
    recorded = recorded_keys(wired.sessions, [e.message_id for e in stale])
    assert recorded == {e.message_id for e in stale}
    assert discord_sandbox.state_object.rate_limiter.global_limit.counted == requests_before


async def test_several_updates_of_one_game_in_a_batch_leave_one_for_the_handler(
    wired: Wired,
) -> None:
    game = create_game(wired.sessions, players=[21])
    await wired.refresher.refresh(game)
    with wired.sessions.begin() as session:  # the game changes: its message is behind
        service.join_game(session, game, 22, now=wired.clock.now() + timedelta(seconds=1))
    updates = [received(EventType.GAME_UPDATED, GameUpdatedEvent(game_id=game)) for _ in range(5)]

    settled = await EventTriage(wired.sessions, wired.refresher)(updates)

    assert settled == {u.message_id for u in updates[1:]}


async def test_updates_that_tell_someone_something_always_reach_the_handler(
    wired: Wired,
) -> None:
    game = create_game(wired.sessions, players=[31])
    await wired.refresher.refresh(game)  # the message shows the game as it is
    news = [
        GameUpdatedEvent(game_id=game, joined=32),
        GameUpdatedEvent(game_id=game, promoted=(33,), left=34, left_full=True),
        GameUpdatedEvent(game_id=game, removed=(35,)),
        GameUpdatedEvent(game_id=game, released=(36,), promoted=(37,)),
        GameUpdatedEvent(game_id=game, previous_scheduled_at=WHEN),
    ]
    updates = [received(EventType.GAME_UPDATED, payload) for payload in news]

    settled = await EventTriage(wired.sessions, wired.refresher)(updates)

    assert settled == set()  # neither "unchanged" nor "coalesced": each has DMs to send
