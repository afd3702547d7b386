"""Reminders and status changes are planned at the times the game rules give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game_scheduler.domain.schedule_plan import plan_schedule
from game_scheduler.domain.status import GameStatus

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_scheduled_game_gets_its_reminders_start_and_end() -> None:
    start = NOW + timedelta(hours=2)
    plan = plan_schedule(
        scheduled_at=start,
        expected_duration_minutes=90,
        reminder_minutes=[15, 60],
        status=GameStatus.SCHEDULED,
        now=NOW,
    )
    assert [(r.reminder_minutes, r.notification_time) for r in plan.reminders] == [
        (60, start - timedelta(minutes=60)),
        (15, start - timedelta(minutes=15)),
    ]
    assert [(t.target_status, t.transition_time) for t in plan.transitions] == [
        (GameStatus.IN_PROGRESS, start),
        (GameStatus.COMPLETED, start + timedelta(minutes=90)),
    ]


def test_duration_defaults_to_an_hour_and_past_reminders_are_dropped() -> None:
    start = NOW + timedelta(minutes=30)
    plan = plan_schedule(
        scheduled_at=start,
        expected_duration_minutes=None,
        reminder_minutes=[60, 15],
        status="SCHEDULED",
        now=NOW,
    )
    assert [r.reminder_minutes for r in plan.reminders] == [15]
    assert plan.transitions[-1].transition_time == start + timedelta(hours=1)


def test_a_running_game_only_waits_for_its_end_and_a_final_one_for_nothing() -> None:
    start = NOW - timedelta(minutes=10)
    running = plan_schedule(
        scheduled_at=start,
        expected_duration_minutes=30,
        reminder_minutes=[5],
        status=GameStatus.IN_PROGRESS,
        now=NOW,
    )
    assert running.reminders == ()
    assert [t.target_status for t in running.transitions] == [GameStatus.COMPLETED]
    for final in (GameStatus.COMPLETED, GameStatus.CANCELLED):
        plan = plan_schedule(
            scheduled_at=start,
            expected_duration_minutes=30,
            reminder_minutes=[5],
            status=final,
            now=NOW,
        )
        assert (plan.reminders, plan.transitions) == ((), ())


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        plan_schedule(
            scheduled_at=datetime(2026, 12, 1),
            expected_duration_minutes=None,
            reminder_minutes=[],
            status="SCHEDULED",
            now=NOW,
        )


@given(
    offset_minutes=st.integers(min_value=1, max_value=20_000),
    reminders=st.lists(st.integers(min_value=1, max_value=10_080), unique=True, max_size=10),
    duration=st.one_of(st.none(), st.integers(min_value=1, max_value=10_080)),
)
def test_plan_properties(offset_minutes: int, reminders: list[int], duration: int | None) -> None:
    start = NOW + timedelta(minutes=offset_minutes)
    plan = plan_schedule(
        scheduled_at=start,
        expected_duration_minutes=duration,
        reminder_minutes=reminders,
        status=GameStatus.SCHEDULED,
        now=NOW,
    )
    times = [r.notification_time for r in plan.reminders]
    # Every reminder is in the future, before the start, at its offset, earliest first.
    assert all(NOW < t < start for t in times)
    assert times == sorted(times)
    assert {r.reminder_minutes for r in plan.reminders} == {
        m for m in reminders if m < offset_minutes
    }
    for r in plan.reminders:
        assert start - r.notification_time == timedelta(minutes=r.reminder_minutes)
    start_t, end_t = plan.transitions
    assert start_t.transition_time == start
    assert end_t.transition_time - start == timedelta(minutes=duration or 60)
