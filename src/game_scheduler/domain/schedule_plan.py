"""When a game's reminders and status changes are due, from the game alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from game_scheduler.domain.status import GameStatus

DEFAULT_DURATION_MINUTES = 60
MAX_REMINDER_MINUTES = 10_080  # one week


@dataclass(frozen=True)
class PlannedReminder:
    """A DM reminder `reminder_minutes` before the start, due at `notification_time`."""

    reminder_minutes: int
    notification_time: datetime


@dataclass(frozen=True)
class PlannedTransition:
    """A status change to `target_status`, due at `transition_time`."""

    target_status: GameStatus
    transition_time: datetime


@dataclass(frozen=True)
class SchedulePlan:
    """Every time-driven piece of work a game needs from now on."""

    reminders: tuple[PlannedReminder, ...]
    transitions: tuple[PlannedTransition, ...]


def end_time(scheduled_at: datetime, expected_duration_minutes: int | None) -> datetime:
    """When a game ends: its start plus its duration, 60 minutes when unset."""
    minutes = expected_duration_minutes or DEFAULT_DURATION_MINUTES
    return scheduled_at + timedelta(minutes=minutes)


def plan_schedule(
    *,
    scheduled_at: datetime,
    expected_duration_minutes: int | None,
    reminder_minutes: list[int] | tuple[int, ...],
    status: GameStatus | str,
    now: datetime,
) -> SchedulePlan:
    """The reminders and transitions still ahead of a game in `status` at `now`.

    Reminders whose time has passed are dropped (a late reminder is worse than none);
    transitions are kept even when due already, so a game never gets stuck in a status.
    """
    if scheduled_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("scheduled_at and now must be timezone-aware")
    status = GameStatus(status)
    if status is GameStatus.SCHEDULED:
        reminders = tuple(
            PlannedReminder(m, scheduled_at - timedelta(minutes=m))
            for m in sorted(set(reminder_minutes), reverse=True)
            if scheduled_at - timedelta(minutes=m) > now
        )
        transitions: tuple[PlannedTransition, ...] = (
            PlannedTransition(GameStatus.IN_PROGRESS, scheduled_at),
            PlannedTransition(
                GameStatus.COMPLETED, end_time(scheduled_at, expected_duration_minutes)
            ),
        )
        return SchedulePlan(reminders, transitions)
    if status is GameStatus.IN_PROGRESS:
        completed = PlannedTransition(
            GameStatus.COMPLETED, end_time(scheduled_at, expected_duration_minutes)
        )
        return SchedulePlan((), (completed,))
    return SchedulePlan((), ())
