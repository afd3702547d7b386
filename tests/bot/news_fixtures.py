"""Fixtures for the DM and check-in tests: the handlers with metrics and check-in buttons,
and the outbox events a change wrote, delivered as the consumer would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest_asyncio
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.checkin_presses import CheckinPresses
from game_scheduler.bot.direct_messages import DirectMessenger
from game_scheduler.bot.events.handlers import EventHandlers, Outcome
from game_scheduler.bot.metrics import BotMetrics
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.bot.views.checkin_view import CHECKIN_ITEMS
from game_scheduler.db.models import EventOutbox
from game_scheduler.messaging.consumer import ReceivedEvent
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.testing import FrozenClock


@dataclass(frozen=True)
class Written:
    """An outbox row a change wrote: what the daemon would publish under `message_id`."""

    message_id: str
    event_type: EventType
    data: dict[str, Any]


@dataclass
class NewsBot:
    """The bot's handlers on the sandbox, with its metrics and check-in buttons."""

    handlers: EventHandlers
    refresher: MessageRefresher
    messenger: DirectMessenger
    clock: FrozenClock
    sessions: sessionmaker[Session]
    registry: CollectorRegistry

    def take(self, *types: EventType) -> list[Written]:
        """The unpublished outbox rows of these types, marked published (as the daemon does)."""
        with self.sessions.begin() as session:
            query = (
                select(EventOutbox)
                .where(~EventOutbox.published, EventOutbox.event_type.in_([t.value for t in types]))
                .order_by(EventOutbox.available_at, EventOutbox.created_at)
            )
            rows = list(session.scalars(query))
            for row in rows:
                row.published = True
            return [Written(str(r.id), EventType(r.event_type), dict(r.payload)) for r in rows]

    async def deliver(self, written: Written) -> Outcome:
        """Hand the handlers one delivery of a written event."""
        event = Event(event_type=written.event_type, data=written.data)
        return await self.handlers.handle(ReceivedEvent.of(event, written.message_id))

    async def deliver_all(self, *types: EventType, times: int = 1) -> list[Written]:
        """Deliver every pending event of these types (each `times` times: redeliveries)."""
        taken = self.take(*types)
        for written in taken:
            for _ in range(times):
                await self.deliver(written)
        return taken

    def dms_counted(self, kind: str, outcome: str = "sent") -> float:
        """The DMs of a kind the metrics counted."""
        labels = {"kind": kind, "outcome": outcome}
        return self.registry.get_sample_value("game_scheduler_bot_dms_total", labels) or 0.0


@pytest_asyncio.fixture
async def news_bot(
    discord_client: discord.Client,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> AsyncIterator[NewsBot]:
    """EventHandlers wired like the bot wires them, the check-in buttons answered."""
    registry = CollectorRegistry()
    metrics = BotMetrics.create(registry)
    messenger = DirectMessenger(discord_client, session_factory, metrics=metrics)
    refresher = MessageRefresher(
        discord_client, session_factory, messenger=messenger, metrics=metrics
    )
    handlers = EventHandlers(session_factory, refresher, messenger, clock)
    discord_client.checkin_handler = CheckinPresses(session_factory, clock)  # type: ignore[attr-defined]  # the bot's attribute, set on a plain client
    discord_client.add_dynamic_items(*CHECKIN_ITEMS)
    yield NewsBot(handlers, refresher, messenger, clock, session_factory, registry)
    await refresher.wait_idle()
