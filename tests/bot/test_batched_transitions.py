"""A batch's status transitions applied together by the triage; handlers only refresh."""

from __future__ import annotations

import uuid

import pytest

from game_scheduler.bot.direct_messages import DirectMessenger, recorded_keys
from game_scheduler.bot.events.fast_path import EventTriage
from game_scheduler.bot.events.handlers import EventHandlers, Outcome
from game_scheduler.bot.events.transitions import (
    Applied,
    AppliedTransitions,
    TransitionResult,
)
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.schemas import GameStatusTransitionDueEvent
from tests.bot.conftest import NOW, Wired, channel_messages, create_game, footer, game_row
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


def start(game_id: uuid.UUID, target: GameStatus = GameStatus.IN_PROGRESS) -> ReceivedEvent:
    payload = GameStatusTransitionDueEvent(
        game_id=game_id, target_status=target.value, transition_time=NOW
    )
    event = Event(
        event_type=EventType.GAME_STATUS_TRANSITION_DUE, data=payload.model_dump(mode="json")
    )
    return ReceivedEvent.of(event, f"t-{uuid.uuid4()}")


async def consume(
    triage: EventTriage, handlers: EventHandlers, batch: list[ReceivedEvent]
) -> dict[str, Outcome]:
    """What the consumer does with a batch: triage it, then hand the rest to handlers."""
    settled = await triage(batch)
    return {e.message_id: await handlers.handle(e) for e in batch if e.message_id not in settled}


async def test_a_batch_of_starts_is_applied_at_once_and_every_message_shows_it(
    wired: Wired, discord_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    games = [create_game(wired.sessions, players=[100 + i]) for i in range(2)]
    for game in games:
        await wired.refresher.refresh(game)
    cancelled = create_game(wired.sessions)
    with wired.sessions.begin() as session:
        service.cancel_game(session, cancelled, now=wired.clock.now())
    batch = [start(g) for g in games] + [start(cancelled)]
    triage = EventTriage(wired.sessions, wired.refresher, transitions=(wired.applied, wired.clock))

    outcomes = await consume(triage, wired.handlers, batch)
    await wired.refresher.wait_idle()

    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # the batch did it

    assert [outcomes[e.message_id] for e in batch[:-1]] == [Outcome.DONE] * len(games)
    assert outcomes[batch[-1].message_id] is Outcome.NOT_ALLOWED
    assert all(game_row(wired.sessions, g).status == "IN_PROGRESS" for g in games)
    assert game_row(wired.sessions, cancelled).status == "CANCELLED"
    messages = {int(m["id"]): m for m in channel_messages(await discord_sandbox.state())}
    for game in games:
        message = messages[game_row(wired.sessions, game).message_id]
        assert footer(message).startswith("In progress")
        assert message["edits"] == 1  # the refresh used the committed game: no second edit
    assert recorded_keys(wired.sessions, [e.message_id for e in batch]) == {
        e.message_id for e in batch
    }
    assert wired.applied.take(batch[0].message_id) is None  # each result taken once


async def test_a_crash_after_the_batch_commits_heals_when_the_events_come_again(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    games = [create_game(wired.sessions, players=[200 + i]) for i in range(2)]
    for game in games:
        await wired.refresher.refresh(game)
    batch = [start(g) for g in games]
    triage = EventTriage(wired.sessions, wired.refresher, transitions=(wired.applied, wired.clock))
    await triage(batch)  # committed; then the bot dies before any handler refreshes
    assert all(game_row(wired.sessions, g).status == "IN_PROGRESS" for g in games)

    # The next process: nothing in memory, the same events redelivered.
    messenger = DirectMessenger(wired.client, wired.sessions)
    refresher = MessageRefresher(wired.client, wired.sessions, messenger=messenger)
    applied = AppliedTransitions()
    handlers = EventHandlers(wired.sessions, refresher, messenger, wired.clock, applied=applied)
    again = EventTriage(wired.sessions, refresher, transitions=(applied, wired.clock))
    outcomes = await consume(again, handlers, batch)
    await refresher.wait_idle()

    assert set(outcomes.values()) == {Outcome.DUPLICATE}  # not applied twice ...
    messages = {int(m["id"]): m for m in channel_messages(await discord_sandbox.state())}
    for game in games:  # ... and every message shows the start all the same
        assert footer(messages[game_row(wired.sessions, game).message_id]).startswith("In progress")


def test_results_wait_for_their_handlers_within_a_bound() -> None:
    applied = AppliedTransitions(kept=2)
    applied.put({m: TransitionResult(Applied.MISSING) for m in ("a", "b", "c")})

    assert applied.take("a") is None  # the oldest let go: its handler applies it itself
    assert applied.take("c") == TransitionResult(Applied.MISSING)
    assert applied.take("c") is None
