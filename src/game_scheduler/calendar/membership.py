"""Which servers a person is still in, as feeds need to know: a small protocol and its source.

A feed must drop the games of a server the person left. Membership is what Discord
reports to the bot now, not what the person's browser said at sign-in: someone who left
a server stops seeing its games at the next poll (within the lookup's cache time, a
minute), whether or not they ever signed in to the dashboard. `MemberGuilds` is the one
question a feed asks, so the source can be swapped without touching the feeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import Protocol


class MemberGuilds(Protocol):
    """Answers: of `guild_ids`, which servers is `user_id` a member of now?"""

    async def __call__(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` the person is a member of."""
        ...


# (guild_id, user_id) -> is the person a member; blocks, and raises if Discord is down.
IsMember = Callable[[int, int], bool]


class DiscordMembership:
    """Membership as Discord reports it to the bot, through the API's member lookups."""

    def __init__(self, is_member: IsMember) -> None:
        self._is_member = is_member

    def member_of(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` whose member lookup finds the person."""
        return {guild_id for guild_id in guild_ids if self._is_member(guild_id, user_id)}

    async def __call__(self, user_id: int, guild_ids: Collection[int]) -> set[int]:
        """The subset of `guild_ids` the person is a member of."""
        return await asyncio.to_thread(self.member_of, user_id, guild_ids)
