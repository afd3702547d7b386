"""Check-in before a game: when its moments are due, which settings are valid, whom to release.

Pure rules, no I/O. A game with `checkin_minutes` asks its confirmed players, that many
minutes before the start, whether they are coming; with `release_minutes` too, the seats
of those who have not answered by then go to the waitlist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from game_scheduler.domain.schedule_plan import MAX_REMINDER_MINUTES
from game_scheduler.domain.validation import InvalidField

DEFAULT_CHECKIN_MINUTES = 120
DEFAULT_RELEASE_MINUTES = 30


class CheckinStage(StrEnum):
    """The two moments of a check-in; the value is the event type that fires it."""

    CHECKIN = "game.checkin_due"
    RELEASE = "game.release_due"


class Answer(StrEnum):
    """What a player answered; stored in `game_checkins.answer`."""

    COMING = "coming"
    NOT_COMING = "not_coming"


@dataclass(frozen=True)
class PlannedCheckin:
    """One check-in moment of the game planned to start at `scheduled_for`."""

    stage: CheckinStage
    due_at: datetime
    scheduled_for: datetime


def plan_checkins(
    *,
    scheduled_at: datetime,
    checkin_minutes: int | None,
    release_minutes: int | None,
    scheduled: bool,
    now: datetime,
) -> tuple[PlannedCheckin, ...]:
    """The check-in moments still ahead of a game; like reminders, past ones are dropped."""
    if not scheduled or checkin_minutes is None:
        return ()
    planned = [
        PlannedCheckin(
            CheckinStage.CHECKIN, scheduled_at - timedelta(minutes=checkin_minutes), scheduled_at
        )
    ]
    if release_minutes is not None:
        planned.append(
            PlannedCheckin(
                CheckinStage.RELEASE,
                scheduled_at - timedelta(minutes=release_minutes),
                scheduled_at,
            )
        )
    return tuple(p for p in planned if p.due_at > now)


def check_checkin(
    checkin_minutes: int | None, release_minutes: int | None, min_players: int | None
) -> None:
    """Raise InvalidField unless the check-in settings make sense together."""
    if checkin_minutes is not None and not 1 <= checkin_minutes <= MAX_REMINDER_MINUTES:
        raise InvalidField("checkin_minutes", f"must be 1 to {MAX_REMINDER_MINUTES} minutes")
    if release_minutes is not None:
        if checkin_minutes is None:
            raise InvalidField("release_minutes", "needs a check-in (checkin_minutes) first")
        if not 1 <= release_minutes < checkin_minutes:
            raise InvalidField(
                "release_minutes", "must be at least 1 and less than checkin_minutes"
            )
    if min_players is not None and not 1 <= min_players <= 100:
        raise InvalidField("min_players", "must be 1 to 100, or absent")


def players_to_release(unanswered_in_join_order: Sequence[int], waiting: int) -> tuple[int, ...]:
    """Who loses their seat: as many non-answerers as there are players waiting, the last
    to have joined first (a seat nobody waits for is left alone)."""
    if waiting <= 0:
        return ()
    return tuple(reversed(unanswered_in_join_order))[:waiting]
