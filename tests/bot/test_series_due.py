"""The series' next occurrence becomes a game exactly once: two daemon replicas, a consumer
that crashes mid-way, redeliveries and concurrent consumers, against the real database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.events.handlers import Outcome
from game_scheduler.db.models import GameSession
from game_scheduler.games import series as series_service
from game_scheduler.messaging.events import EventType
from game_scheduler.messaging.schemas import GameSeriesDueEvent
from game_scheduler.testing import FakePublisher
from tests.bot.conftest import CHANNEL_ID, GUILD_ID, HOST_ID, NOW, Wired
from tests.scheduler.helpers import SERIES, make_daemon, running, wait_for

pytestmark = pytest.mark.integration

# Every third week at 20:00 UTC: after the first game, the next is beyond the horizon, so
# it is made only when the first starts (the case the issue names).
FIRST = NOW.replace(hour=20, minute=0)
SECOND = FIRST + timedelta(weeks=3)


class Crash(Exception):
    """The consumer dying after it made the game, before it committed."""


def make_series(sessions: sessionmaker[Session]) -> uuid.UUID:
    new = series_service.NewSeries(
        guild_id=GUILD_ID,
        channel_id=CHANNEL_ID,
        host_id=HOST_ID,
        title="Every third Thursday",
        rrule="FREQ=WEEKLY;INTERVAL=3",
        timezone="UTC",
        local_start=FIRST.replace(tzinfo=None),
    )
    with sessions.begin() as session:
        return series_service.create_series(session, new, now=NOW).id


def make_then_crash(sessions: sessionmaker[Session], series_id: uuid.UUID, now: datetime) -> None:
    with sessions.begin() as session:
        series_service.materialise_series(session, series_id, now=now)
        raise Crash


def starts(sessions: sessionmaker[Session], series_id: uuid.UUID) -> list[datetime]:
    with sessions() as session:
        return [g.scheduled_at for g in series_service.games_of(session, series_id)]


async def test_the_next_occurrence_is_made_once_with_two_replicas_and_a_crash(
    wired: Wired, session_factory: sessionmaker[Session], database_url: str
) -> None:
    series_id = make_series(session_factory)
    assert starts(session_factory, series_id) == [FIRST]
    with session_factory() as session:
        due = session.execute(
            text("SELECT materialize_at FROM series_schedule WHERE series_id = :s"),
            {"s": series_id},
        ).scalar_one()
    assert due == FIRST  # the first game's start: then the next one is needed

    # The first game's start has come, by the database clock the daemons go by.
    wired.clock.advance(FIRST - NOW + timedelta(seconds=1))
    with session_factory.begin() as session:
        session.execute(text("UPDATE series_schedule SET materialize_at = now()"))

    publishers = [FakePublisher(), FakePublisher()]
    daemons = [make_daemon(database_url, SERIES, publisher=p) for p in publishers]

    def published() -> list[str]:
        return [m.message_id for p in publishers for m in p.published]

    try:
        with running(daemons[0]), running(daemons[1]):
            wait_for(lambda: len(published()) >= 1)
            await asyncio.sleep(0.2)  # a second claim would have happened by now
    finally:
        for daemon in daemons:
            daemon.close()
    (message,) = [m for p in publishers for m in p.published]
    assert message.event.event_type is EventType.GAME_SERIES_DUE

    # A consumer makes the game, then dies before its commit: nothing of it remains.
    with pytest.raises(Crash):
        make_then_crash(session_factory, series_id, wired.clock.now())
    assert starts(session_factory, series_id) == [FIRST]

    # Redelivered: the game is made. Delivered again, and to two consumers at once under
    # other ids: still one game for the occurrence.
    payload = GameSeriesDueEvent.model_validate(message.event.data)
    handle = wired.handlers._on_series_due
    assert await handle(payload, message.message_id) is Outcome.DONE
    assert await handle(payload, message.message_id) is Outcome.DUPLICATE
    await asyncio.gather(handle(payload, "other-consumer-1"), handle(payload, "other-consumer-2"))
    assert starts(session_factory, series_id) == [FIRST, SECOND]

    with session_factory() as session:
        pending = session.execute(
            text("SELECT materialize_at FROM series_schedule WHERE NOT processed")
        ).scalar_one()
    assert pending == SECOND  # and so on, game after game


def test_the_database_refuses_a_second_game_for_one_occurrence(
    session_factory: sessionmaker[Session],
) -> None:
    series_id = make_series(session_factory)
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        session.add(
            GameSession(
                guild_id=GUILD_ID,
                channel_id=CHANNEL_ID,
                host_id=HOST_ID,
                title="again",
                scheduled_at=FIRST,
                series_id=series_id,
                series_occurrence_at=FIRST.astimezone(UTC),
            )
        )
