"""The status machine lets a game move forward only, and never out of a final status."""

from __future__ import annotations

import itertools

import pytest

from game_scheduler.domain.status import GameStatus, is_valid_transition, status_label

ALLOWED = {
    (GameStatus.SCHEDULED, GameStatus.IN_PROGRESS),
    (GameStatus.SCHEDULED, GameStatus.CANCELLED),
    (GameStatus.IN_PROGRESS, GameStatus.COMPLETED),
    (GameStatus.IN_PROGRESS, GameStatus.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(GameStatus, GameStatus)))
def test_exactly_the_designed_transitions_are_allowed(
    current: GameStatus, target: GameStatus
) -> None:
    assert is_valid_transition(current, target) is ((current, target) in ALLOWED)


def test_strings_work_and_unknown_names_are_never_valid() -> None:
    assert is_valid_transition("SCHEDULED", "IN_PROGRESS")
    assert not is_valid_transition("SCHEDULED", "STARTED")
    assert not is_valid_transition("BOGUS", "COMPLETED")


def test_completed_and_cancelled_are_final() -> None:
    final = {s for s in GameStatus if not any(is_valid_transition(s, t) for t in GameStatus)}
    assert final == {GameStatus.COMPLETED, GameStatus.CANCELLED}


def test_every_status_has_one_label_people_read() -> None:
    labels = {status: status_label(status) for status in GameStatus}

    assert labels[GameStatus.IN_PROGRESS] == "In progress"
    assert status_label("CANCELLED") == "Cancelled"
    assert len(set(labels.values())) == len(GameStatus)
