"""The game status machine: which status may follow which."""

from __future__ import annotations

from enum import StrEnum


class GameStatus(StrEnum):
    """Where a game is in its life."""

    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


_LABELS = {
    GameStatus.SCHEDULED: "Scheduled",
    GameStatus.IN_PROGRESS: "In progress",
    GameStatus.COMPLETED: "Completed",
    GameStatus.CANCELLED: "Cancelled",
}


def status_label(status: GameStatus | str) -> str:
    """The status as people read it ("In progress"); lower-case it inside a sentence."""
    return _LABELS[GameStatus(status)]


# COMPLETED and CANCELLED are final: they appear as no key.
ALLOWED_TRANSITIONS: dict[GameStatus, frozenset[GameStatus]] = {
    GameStatus.SCHEDULED: frozenset({GameStatus.IN_PROGRESS, GameStatus.CANCELLED}),
    GameStatus.IN_PROGRESS: frozenset({GameStatus.COMPLETED, GameStatus.CANCELLED}),
}


def is_valid_transition(current: GameStatus | str, target: GameStatus | str) -> bool:
    """True when a game in `current` may move to `target`; unknown names are never valid."""
    try:
        current, target = GameStatus(current), GameStatus(target)
    except ValueError:
        return False
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def is_open_for_joining(status: GameStatus | str) -> bool:
    """Players may join or leave only before a game starts."""
    return GameStatus(status) is GameStatus.SCHEDULED
