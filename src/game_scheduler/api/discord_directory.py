"""What Discord tells the bot about servers and their members, asked over REST and cached.

Membership and roles come from Discord, never from the person: the API asks
`GET /guilds/{id}` (owner, roles and their permission bits), `GET /guilds/{id}/members/{user}`
(the member's roles, or 404 for someone who is not a member) and `GET /users/@me/guilds`
(the servers the bot is in) with the bot's token. Answers are kept for `ttl` seconds
(60 by default), so a role given or taken away in Discord shows here within a minute; a
"not a member" answer is kept as long. The cache is per process and bounded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from game_scheduler.domain.permissions import Member, Overwrite

logger = logging.getLogger(__name__)

DEFAULT_TTL = 60.0  # seconds an answer from Discord is trusted
MAX_ENTRIES = 10_000
TIMEOUT = 5.0  # seconds per Discord call
SANDBOX_BOT_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox accepts any token

T = TypeVar("T")


class DiscordUnavailable(Exception):
    """Discord did not answer a lookup (down, slow or rate limiting): try again shortly."""


@dataclass(frozen=True, slots=True)
class GuildFacts:
    """A server as the bot sees it: its name, owner and each role's permission bits."""

    guild_id: int
    name: str
    owner_id: int
    role_permissions: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """A channel as `GET /channels/{id}` shows it to the bot: its server and overwrites."""

    channel_id: int
    guild_id: int | None  # None for a DM channel
    name: str
    overwrites: tuple[Overwrite, ...]


@dataclass(frozen=True, slots=True)
class ChannelRefused:
    """Discord would not show the channel: 403 (the bot may not see it) or 404 (no such)."""

    status: int


class _TtlCache:
    """A small thread-safe cache whose entries expire `ttl` seconds after they were stored."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get_or_load(self, key: object, load: Callable[[], T]) -> T:
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]  # type: ignore[return-value]  # stored by this same key's loader
        value = load()
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def drop(self, key: object) -> None:
        with self._lock:
            self._entries.pop(key, None)


class DiscordDirectory:
    """Server and member lookups with the bot's token, each answer cached for `ttl` seconds."""

    def __init__(
        self,
        api_base: str,
        bot_token: str | None,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        token = bot_token or SANDBOX_BOT_TOKEN
        self._client = httpx.Client(
            base_url=api_base.rstrip("/") + "/",
            headers={"Authorization": f"Bot {token}", "User-Agent": "GameScheduler (api)"},
            timeout=TIMEOUT,
        )
        self._cache = _TtlCache(ttl, clock)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def forget(self) -> None:
        """Drop every cached answer (tests, and after a settings change)."""
        self._cache.clear()

    def guild(self, guild_id: int) -> GuildFacts | None:
        """The server's owner and roles, or None when the bot is not in it."""
        return self._cache.get_or_load(("guild", guild_id), lambda: self._load_guild(guild_id))

    def member(self, guild_id: int, user_id: int) -> Member | None:
        """The person as a member of the server, or None when they are not one."""
        return self._cache.get_or_load(
            ("member", guild_id, user_id), lambda: self._load_member(guild_id, user_id)
        )

    def channel(self, channel_id: int) -> ChannelFacts | ChannelRefused:
        """The channel's server and permission overwrites, asked fresh (never cached)."""
        status, data = self._get_with_status(f"channels/{channel_id}")
        if status != 200 or not isinstance(data, dict):
            return ChannelRefused(status)
        overwrites = tuple(
            Overwrite(
                target_id=int(o["id"]),
                for_member=int(o.get("type") or 0) == 1,
                allow=int(o.get("allow") or 0),
                deny=int(o.get("deny") or 0),
            )
            for o in data.get("permission_overwrites") or []
        )
        guild_id = data.get("guild_id")
        return ChannelFacts(
            channel_id=channel_id,
            guild_id=int(guild_id) if guild_id else None,
            name=str(data.get("name") or channel_id),
            overwrites=overwrites,
        )

    def bot_user_id(self) -> int:
        """The bot's own user id (`GET /users/@me` with its token)."""
        return self._cache.get_or_load(("bot-user",), self._load_bot_user_id)

    def forget_guild(self, guild_id: int, user_id: int) -> None:
        """Drop what is cached of a server and of one member of it, to ask afresh."""
        self._cache.drop(("guild", guild_id))
        self._cache.drop(("member", guild_id, user_id))

    def bot_guild_ids(self) -> frozenset[int]:
        """The servers the bot is in."""
        return self._cache.get_or_load(("bot-guilds",), self._load_bot_guilds)

    def _get(self, path: str) -> Any | None:
        """GET a Discord path: its JSON, or None on 404 (and 403: the bot cannot see it)."""
        return self._get_with_status(path)[1]

    def _get_with_status(self, path: str) -> tuple[int, Any]:
        """GET a Discord path: (200, its JSON), or (403 or 404, None)."""
        try:
            response = self._client.get(path)
        except httpx.HTTPError as exc:
            logger.warning("Discord lookup %s failed: %s", path, type(exc).__name__)
            raise DiscordUnavailable("Discord did not answer") from None
        if response.status_code in (403, 404):
            return response.status_code, None
        if response.status_code != 200:
            logger.warning("Discord lookup %s answered %d", path, response.status_code)
            raise DiscordUnavailable(f"Discord answered {response.status_code}")
        return 200, response.json()

    def _load_bot_user_id(self) -> int:
        data = self._get("users/@me")
        if not isinstance(data, dict) or "id" not in data:
            raise DiscordUnavailable("Discord did not say who the bot is")
        return int(data["id"])

    def _load_guild(self, guild_id: int) -> GuildFacts | None:
        data = self._get(f"guilds/{guild_id}")
        if not isinstance(data, dict):
            return None
        roles = {int(r["id"]): int(r.get("permissions") or 0) for r in data.get("roles") or []}
        return GuildFacts(
            guild_id=guild_id,
            name=str(data.get("name") or guild_id),
            owner_id=int(data.get("owner_id") or 0),
            role_permissions=roles,
        )

    def _load_member(self, guild_id: int, user_id: int) -> Member | None:
        guild = self.guild(guild_id)
        if guild is None:
            return None
        data = self._get(f"guilds/{guild_id}/members/{user_id}")
        if not isinstance(data, dict):
            return None
        return Member(
            user_id=user_id,
            role_ids=frozenset(int(r) for r in data.get("roles") or []),
            is_owner=guild.owner_id == user_id,
        )

    def _load_bot_guilds(self) -> frozenset[int]:
        ids: set[int] = set()
        after = 0
        while True:  # Discord pages this list 200 at a time
            page = self._get(f"users/@me/guilds?limit=200&after={after}") or []
            ids.update(int(g["id"]) for g in page)
            if len(page) < 200:
                return frozenset(ids)
            after = max(int(g["id"]) for g in page)
