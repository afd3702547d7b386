"""The bot forgets deduplication records once no redelivery can need them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.bot import DEDUP_RETENTION, GameBot
from game_scheduler.db.models import ProcessedMessage
from game_scheduler.testing import FrozenClock

pytestmark = pytest.mark.integration

NOW = datetime(2031, 5, 1, 18, 0, tzinfo=UTC)


async def test_records_older_than_the_retention_are_pruned(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        for message_id, age in (
            ("old", DEDUP_RETENTION + timedelta(hours=1)),
            ("recent", timedelta(days=1)),
        ):
            session.execute(
                text("INSERT INTO processed_messages (message_id, processed_at) VALUES (:m, :t)"),
                {"m": message_id, "t": NOW - age},
            )
    # Nothing connects: pruning needs only the database.
    bot = GameBot(sessions=session_factory, rabbitmq_url="amqp://unused/", clock=FrozenClock(NOW))
    try:
        assert bot.prune_dedup_records() == 1
    finally:
        await bot.close()
    with session_factory() as session:
        assert list(session.scalars(select(ProcessedMessage.message_id))) == ["recent"]
