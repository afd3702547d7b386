"""`RestDirectory`: a server's channels, roles and member names from Discord's REST API.

Asked with the bot's token, as the bot sees the server (the sandbox in development). A
page asks often and Discord changes rarely, so answers are kept for a minute; a Discord
that does not answer makes pages fall back to ids instead of failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from game_scheduler.config import Settings
from game_scheduler.web.viewer import Named

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
TIMEOUT_SECONDS = 3.0
TEXT_CHANNEL = 0  # Discord's channel type of a text channel
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - not a secret: the sandbox accepts any token


def bot_token_of(settings: Settings) -> str:
    """The bot's token, or the sandbox's stand-in when there is none."""
    token = settings.discord_bot_token
    return token.get_secret_value() if token is not None else SANDBOX_TOKEN


class RestDirectory:
    """Channels, roles and names of a server, read from Discord and kept for a minute."""

    def __init__(self, api_base: str, token: str) -> None:
        self._client = httpx.Client(
            base_url=api_base.rstrip("/"),
            headers={"Authorization": f"Bot {token}"},
            timeout=TIMEOUT_SECONDS,
        )
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _get(self, path: str) -> Any:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = self._client.get(path)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Discord lookup failed: GET %s: %s", path, type(exc).__name__)
            return None
        with self._lock:
            self._cache[path] = (now, body)
        return body

    def channels(self, guild_id: int) -> list[Named]:
        """The server's text channels, in Discord's order."""
        body = self._get(f"/guilds/{guild_id}/channels")
        if not isinstance(body, list):
            return []
        texts = [c for c in body if isinstance(c, dict) and c.get("type", 0) == TEXT_CHANNEL]
        texts.sort(key=lambda c: (c.get("position", 0), int(c["id"])))
        return [Named(int(c["id"]), str(c.get("name") or c["id"])) for c in texts]

    def roles(self, guild_id: int) -> list[Named]:
        """The server's roles, @everyone (whose id is the server's) left out."""
        body = self._get(f"/guilds/{guild_id}/roles")
        if not isinstance(body, list):
            guild = self._get(f"/guilds/{guild_id}")
            body = guild.get("roles") if isinstance(guild, dict) else None
        if not isinstance(body, list):
            return []
        roles = [r for r in body if isinstance(r, dict) and int(r["id"]) != guild_id]
        roles.sort(key=lambda r: -int(r.get("position", 0)))
        return [Named(int(r["id"]), str(r.get("name") or r["id"])) for r in roles]

    def member_names(self, guild_id: int, user_ids: Iterable[int]) -> Mapping[int, str]:
        """Server nicknames, else global names, else usernames, of those that could be found."""
        names: dict[int, str] = {}
        for user_id in user_ids:
            member = self._get(f"/guilds/{guild_id}/members/{user_id}")
            if not isinstance(member, dict):
                continue
            user = member.get("user") or {}
            name = member.get("nick") or user.get("global_name") or user.get("username")
            if name:
                names[user_id] = str(name)
        return names
