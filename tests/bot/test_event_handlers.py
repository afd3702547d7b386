"""EventHandlers against the real database and discord.py on the sandbox (seed Task 4.3)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, timedelta

import pytest

from game_scheduler.bot.events.handlers import Outcome
from game_scheduler.domain.status import GameStatus
from game_scheduler.messaging.events import EventType
from tests.bot.conftest import (
    CHANNEL_ID,
    NOW,
    Wired,
    buttons,
    channel_messages,
    create_game,
    footer,
    game_row,
)
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration


def transition(game_id: uuid.UUID, target: GameStatus = GameStatus.IN_PROGRESS) -> dict[str, str]:
    """The data of a game.status_transition_due event."""
    return {
        "game_id": str(game_id),
        "target_status": target.value,
        "transition_time": NOW.isoformat(),
    }


async def posted(wired: Wired, game_id: uuid.UUID) -> None:
    """Have the game's message posted, as game.created does."""
    await wired.deliver(
        EventType.GAME_CREATED, {"game_id": str(game_id)}, message_id=f"c-{game_id}"
    )


async def test_status_transition_sets_status_and_commits(wired: Wired) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    wired.clock.advance(timedelta(hours=2))

    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")

    game = game_row(wired.sessions, game_id)  # a fresh transaction sees only what committed
    assert game.status == GameStatus.IN_PROGRESS.value


async def test_status_transition_refreshes_the_message(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions, players=[11, 12])
    await posted(wired, game_id)

    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")

    [message] = channel_messages(await discord_sandbox.state())
    assert int(message["id"]) == game_row(wired.sessions, game_id).message_id
    assert message["edits"] == 1
    assert footer(message).startswith("In progress")
    assert all(button["disabled"] for button in buttons(message))
    assert "<@11>" in message["embeds"][0]["fields"][5]["value"]


async def test_updated_at_is_set_in_utc(wired: Wired) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    wired.clock.advance(timedelta(hours=2, seconds=3))

    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")

    updated_at = game_row(wired.sessions, game_id).updated_at
    assert updated_at.utcoffset() == timedelta(0)
    assert updated_at == wired.clock.now()
    assert updated_at.astimezone(UTC) == NOW + timedelta(hours=2, seconds=3)


async def test_missing_game_is_a_warning_and_nothing_else(
    wired: Wired, discord_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="game_scheduler.bot")
    missing = uuid.uuid4()

    await wired.handlers._handle_status_transition_due(transition(missing), message_id="t-1")

    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage() == "status transition skipped: game not found"
    assert record.game_id == str(missing)  # type: ignore[attr-defined]
    assert channel_messages(await discord_sandbox.state()) == []


async def test_wrong_current_status_is_a_warning_and_leaves_the_game_alone(
    wired: Wired, discord_sandbox: SandboxHandle, caplog: pytest.LogCaptureFixture
) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    caplog.set_level(logging.INFO, logger="game_scheduler.bot")

    # SCHEDULED -> COMPLETED is not a transition the status machine allows.
    await wired.handlers._handle_status_transition_due(
        transition(game_id, GameStatus.COMPLETED), message_id="t-1"
    )

    assert game_row(wired.sessions, game_id).status == GameStatus.SCHEDULED.value
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert warning.getMessage() == "status transition skipped: not allowed from the current status"
    assert warning.current_status == "SCHEDULED"  # type: ignore[attr-defined]
    [message] = channel_messages(await discord_sandbox.state())
    assert message["edits"] == 0


async def test_a_repeat_transition_is_harmless(
    wired: Wired, discord_sandbox: SandboxHandle
) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")
    wired.clock.advance(timedelta(minutes=5))

    # The same delivery again, and a second event for the same change (another id).
    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")
    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-2")

    game = game_row(wired.sessions, game_id)
    assert game.status == GameStatus.IN_PROGRESS.value
    assert game.updated_at == NOW  # the repeats changed nothing
    [message] = channel_messages(await discord_sandbox.state())
    assert footer(message).startswith("In progress")


async def test_the_transition_is_logged(wired: Wired, caplog: pytest.LogCaptureFixture) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    caplog.set_level(logging.INFO, logger="game_scheduler.bot")

    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")

    [record] = [r for r in caplog.records if r.getMessage() == "game status changed"]
    assert record.levelno == logging.INFO
    assert record.game_id == str(game_id)  # type: ignore[attr-defined]
    assert record.from_status == "SCHEDULED"  # type: ignore[attr-defined]
    assert record.target_status == "IN_PROGRESS"  # type: ignore[attr-defined]


async def test_in_progress_then_completed(wired: Wired, discord_sandbox: SandboxHandle) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)

    await wired.handlers._handle_status_transition_due(transition(game_id), message_id="t-1")
    await wired.handlers._handle_status_transition_due(
        transition(game_id, GameStatus.COMPLETED), message_id="t-2"
    )

    assert game_row(wired.sessions, game_id).status == GameStatus.COMPLETED.value
    [message] = channel_messages(await discord_sandbox.state(), CHANNEL_ID)
    assert footer(message).startswith("Completed")


async def test_a_delivery_says_what_it_did(wired: Wired) -> None:
    game_id = create_game(wired.sessions)
    await posted(wired, game_id)
    due = EventType.GAME_STATUS_TRANSITION_DUE

    applied = await wired.deliver(due, transition(game_id), message_id="t-1")
    repeated = await wired.deliver(due, transition(game_id), message_id="t-1")
    refused = await wired.deliver(due, transition(game_id, GameStatus.SCHEDULED), message_id="t-2")
    missing = await wired.deliver(due, transition(uuid.uuid4()), message_id="t-3")

    assert (applied, repeated, refused, missing) == (
        Outcome.DONE,
        Outcome.DUPLICATE,
        Outcome.NOT_ALLOWED,
        Outcome.MISSING,
    )
    assert game_row(wired.sessions, game_id).status == GameStatus.IN_PROGRESS.value
