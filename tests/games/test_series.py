"""A weekly Friday 20:00 Europe/Berlin series walked across the 2027-03-28 change.

The clock is frozen and moved by hand to each time the series' schedule row names, as the
scheduler daemon would fire it: the games appear one by one, each at 20:00 in Berlin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import SeriesSchedule
from game_scheduler.games import series as series_service
from game_scheduler.games import service

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def due_time(sessions: sessionmaker[Session]) -> datetime:
    with sessions() as session:
        return session.scalars(
            select(SeriesSchedule.materialize_at).where(~SeriesSchedule.processed)
        ).one()


def test_a_weekly_berlin_series_walks_across_the_change_at_20_00_local(
    session_factory: sessionmaker[Session],
) -> None:
    new = series_service.NewSeries(
        guild_id=1,
        channel_id=2,
        host_id=3,
        title="Friday night",
        rrule="FREQ=WEEKLY;BYDAY=FR",
        timezone="Europe/Berlin",
        local_start=datetime(2027, 3, 19, 20, 0),
        reminder_minutes=[60],
    )
    with session_factory.begin() as session:
        series_id = series_service.create_series(session, new, now=CREATED).id
    fired_at = []
    for _ in range(4):
        now = due_time(session_factory)
        fired_at.append(now)
        with session_factory.begin() as session:
            series_service.materialise_series(session, series_id, now=now)

    with session_factory() as session:
        games = series_service.games_of(session, series_id)
        starts = [g.scheduled_at for g in games]
        local = {g.scheduled_at.astimezone(BERLIN).strftime("%a %H:%M") for g in games}
        reminders = [service.get_game(session, g.id).reminder_minutes for g in games]
    assert starts[:3] == [
        datetime(2027, 3, 19, 19, 0, tzinfo=UTC),
        datetime(2027, 3, 26, 19, 0, tzinfo=UTC),
        datetime(2027, 4, 2, 18, 0, tzinfo=UTC),
    ]
    assert local == {"Fri 20:00"}
    assert reminders == [[60]] * len(games)
    # Each look came when the next Friday entered the two-week horizon, never later.
    for fired, start in zip(fired_at, starts[1:], strict=False):
        assert fired <= start - series_service.SERIES_HORIZON
    assert len(starts) == len(set(starts))
    assert starts == sorted(starts)
    assert starts[-1] - starts[0] == timedelta(weeks=len(starts) - 1) + timedelta(hours=-1)
