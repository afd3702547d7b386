"""Which servers a person is still in, as feeds need to know: a small protocol and its source.

A feed must drop the games of a server the person left. Membership is what Discord
reports; `MemberGuilds` is the one question a feed asks, so the source can be swapped
(the member lookups the API keeps, a test's fixed answer) without touching the feeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import WebSession


class MemberGuilds(Protocol):
    """Answers: of `guild_ids`, which servers is `user_id` a member of now?"""

    async def __call__(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` the person is a member of."""
        ...


class LastReportedGuilds:
    """Membership as Discord last reported it at the person's most recent sign-in."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def member_of(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` listed in the person's latest web session."""
        with self._sessions() as session:
            reported = session.scalars(
                select(WebSession.guild_ids)
                .where(WebSession.user_id == user_id)
                .order_by(WebSession.guilds_refreshed_at.desc().nulls_last())
                .limit(1)
            ).first()
        return set(guild_ids) & set(reported or ())

    async def __call__(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` the person is a member of."""
        return await asyncio.to_thread(self.member_of, user_id, guild_ids)
