"""The bot's Prometheus metrics, beside the consumer's events handled/failed by type.

Events handled and failed are counted by the consumer (`messaging.metrics`), the one
place that sees every outcome, including dead letters; this module adds what only the
bot sees: Discord's 429s, paced writes, refresh latency, DMs and gateway health.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram

from game_scheduler.messaging.metrics import EVENTS_FAILED, EVENTS_HANDLED

__all__ = [
    "DISCORD_RATE_LIMITS",
    "DMS_SENT",
    "EDITS_PACED",
    "EVENTS_FAILED",
    "EVENTS_HANDLED",
    "GATEWAY_CONNECTED",
    "MESSAGE_WRITES",
    "REFRESH_SECONDS",
    "RateLimitCounter",
    "install_rate_limit_counter",
]

DISCORD_RATE_LIMITS = Counter(
    "game_scheduler_bot_discord_rate_limits",
    "HTTP 429 answers from Discord (discord.py waits retry_after and retries), by scope.",
    ["scope"],
)
EDITS_PACED = Counter(
    "game_scheduler_bot_edits_paced",
    "Message writes the bot delayed itself to stay within 5 per 5 s per channel.",
)
REFRESH_SECONDS = Histogram(
    "game_scheduler_bot_refresh_seconds",
    "Time from a refresh being requested to Discord accepting the edit or post.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGE_WRITES = Counter(
    "game_scheduler_bot_message_writes",
    "Game messages written to Discord, by kind (post, edit, repost after a 404).",
    ["kind"],
)
DMS_SENT = Counter(
    "game_scheduler_bot_dms",
    "Direct messages to players, by kind (reminder, cancelled) and outcome.",
    ["kind", "outcome"],
)
GATEWAY_CONNECTED = Gauge(
    "game_scheduler_bot_gateway_connected",
    "1 while the bot's Gateway connection is up.",
)


class RateLimitCounter(logging.Handler):
    """Counts discord.py's "We are being rate limited" warnings: one per 429 it meets."""

    def emit(self, record: logging.LogRecord) -> None:
        """Count a 429 warning; ignore every other record."""
        message = str(record.msg)
        if message.startswith("We are being rate limited"):
            DISCORD_RATE_LIMITS.labels("route").inc()
        elif message.startswith("Global rate limit has been hit"):
            DISCORD_RATE_LIMITS.labels("global").inc()


def install_rate_limit_counter() -> RateLimitCounter:
    """Attach the 429 counter to discord.py's HTTP logger (idempotent)."""
    http_logger = logging.getLogger("discord.http")
    for handler in http_logger.handlers:
        if isinstance(handler, RateLimitCounter):
            return handler
    handler = RateLimitCounter(level=logging.WARNING)
    http_logger.addHandler(handler)
    # A quieter LOG_LEVEL must not hide the warnings the counter needs to see.
    if http_logger.getEffectiveLevel() > logging.WARNING:
        http_logger.setLevel(logging.WARNING)
    return handler
