"""A game's check-in moments: planned with it, replaced when it moves, found by their index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.domain.checkin import CheckinStage, plan_checkins, players_to_release
from game_scheduler.games.checkin_plan import PENDING_CHECKINS_OF_GAME

NOW = datetime(2031, 5, 1, 18, 0, tzinfo=UTC)


def test_moments_ahead_only_and_release_needs_check_in() -> None:
    start = NOW + timedelta(hours=1)
    planned = plan_checkins(
        scheduled_at=start, checkin_minutes=120, release_minutes=30, scheduled=True, now=NOW
    )
    assert [(p.stage, p.due_at) for p in planned] == [
        (CheckinStage.RELEASE, start - timedelta(minutes=30))
    ]  # the check-in's time has passed: like a reminder, it is dropped
    off = plan_checkins(
        scheduled_at=start, checkin_minutes=None, release_minutes=None, scheduled=True, now=NOW
    )
    assert off == ()


def test_release_takes_as_many_as_wait_last_joined_first() -> None:
    assert players_to_release([1, 2, 3], waiting=2) == (3, 2)
    assert players_to_release([1, 2, 3], waiting=0) == ()


@pytest.mark.integration
def test_finding_a_games_pending_moments_uses_the_partial_index_in_a_generic_plan(
    session_factory: sessionmaker[Session],
) -> None:
    statement = PENDING_CHECKINS_OF_GAME.replace(":game_id", "$1")
    with session_factory.begin() as session:
        session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(
            text(f"PREPARE pending(text) AS SELECT id FROM event_outbox WHERE {statement}")
        )
        plan = "\n".join(session.scalars(text("EXPLAIN EXECUTE pending('x')")))
        session.execute(text("DEALLOCATE pending"))
    assert "ix_event_outbox_pending_checkins" in plan
