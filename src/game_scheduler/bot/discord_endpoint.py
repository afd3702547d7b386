"""The one place that tells discord.py which Discord to talk to: discord.com or the sandbox."""

from __future__ import annotations

import logging

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

# Which base a process uses is the settings' decision (config.py); this module applies it.
from game_scheduler.config import DISCORD_API_BASE

logger = logging.getLogger(__name__)

DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def gateway_for(api_base: str) -> yarl.URL:
    """Return the Gateway URL that goes with a REST base (the sandbox serves it at /gateway)."""
    base = api_base.rstrip("/")
    if base == DISCORD_API_BASE:
        return yarl.URL(DISCORD_GATEWAY)
    url = yarl.URL(base)
    scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
    return url.with_scheme(scheme).with_path("/gateway").with_query(None)


def point_discord_at(api_base: str) -> None:
    """Point discord.py's REST calls and Gateway connection at api_base (process-wide)."""
    base = api_base.rstrip("/")
    # discord.py builds every REST URL (webhooks and interaction callbacks too) from this
    # class attribute.
    Route.BASE = base
    # A plain Client never asks GET /gateway/bot: it connects to DEFAULT_GATEWAY, resumes at
    # READY's resume_gateway_url, and falls back to DEFAULT_GATEWAY when a session is
    # invalidated. AutoShardedClient asks /gateway/bot, which the sandbox also answers.
    DiscordWebSocket.DEFAULT_GATEWAY = gateway_for(base)
    if base != DISCORD_API_BASE:
        logger.info("discord.py points at %s (gateway %s)", base, gateway_for(base))
