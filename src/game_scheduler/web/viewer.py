"""Who is looking at a page, and what the dashboard may ask about their servers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from game_scheduler.domain.permissions import Rights


@dataclass(frozen=True)
class ServerAccess:
    """A server the viewer shares with the bot, and what they may do there."""

    guild_id: int
    name: str
    rights: Rights


@dataclass(frozen=True)
class Viewer:
    """The signed-in person a page is rendered for."""

    user_id: int
    username: str
    csrf_token: str
    timezone: str | None = None
    dm_reminders: bool = True  # `/reminders on|off`, the switch on the home page
    servers: tuple[ServerAccess, ...] = field(default=())

    def server(self, guild_id: int) -> ServerAccess | None:
        """The viewer's access to one server, or None when they are not in it."""
        return next((s for s in self.servers if s.guild_id == guild_id), None)

    @property
    def guild_ids(self) -> list[int]:
        """Every server the viewer may see."""
        return [s.guild_id for s in self.servers]


@dataclass(frozen=True)
class Named:
    """A channel or role: its id and the name Discord shows."""

    id: int
    name: str


class Directory(Protocol):
    """What Discord knows about a server, as the bot sees it: channels, roles, names."""

    def channels(self, guild_id: int) -> list[Named]:
        """The server's text channels, in Discord's order."""
        ...

    def roles(self, guild_id: int) -> list[Named]:
        """The server's roles, @everyone left out."""
        ...

    def member_names(self, guild_id: int, user_ids: Iterable[int]) -> Mapping[int, str]:
        """Display names of the members that could be found; the rest are left out."""
        ...


class EmptyDirectory:
    """A directory that knows nothing: pages fall back to ids and free-text fields."""

    def channels(self, guild_id: int) -> list[Named]:
        """No channels known."""
        return []

    def roles(self, guild_id: int) -> list[Named]:
        """No roles known."""
        return []

    def member_names(self, guild_id: int, user_ids: Iterable[int]) -> Mapping[int, str]:
        """No names known."""
        return {}
