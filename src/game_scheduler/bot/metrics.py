"""The bot's Prometheus metrics, beside the consumer's events handled/failed by type.

Events handled and failed are counted by the consumer (`messaging.metrics`), the one
place that sees every outcome, including dead letters; `BotMetrics` adds what only the
bot sees: Discord's 429s, paced writes, refresh latency, DMs and gateway health. Both are
built on the registry the bot's composition root (`build_bot`) injects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class BotMetrics:
    """The bot's own metric families on one registry."""

    registry: CollectorRegistry
    discord_rate_limits: Counter
    edits_paced: Counter
    refresh_seconds: Histogram
    message_writes: Counter
    dms_sent: Counter
    gateway_connected: Gauge
    discord_requests: Counter
    discord_request_wait_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> BotMetrics:
        """Register the families in `registry` (once per registry: Prometheus forbids twice)."""
        return cls(
            registry=registry,
            discord_rate_limits=Counter(
                "game_scheduler_bot_discord_rate_limits",
                "HTTP 429 answers from Discord (discord.py waits retry_after and retries), "
                "by scope.",
                ["scope"],
                registry=registry,
            ),
            edits_paced=Counter(
                "game_scheduler_bot_edits_paced",
                "Message writes the bot delayed itself to stay within 5 per 5 s per channel.",
                registry=registry,
            ),
            refresh_seconds=Histogram(
                "game_scheduler_bot_refresh_seconds",
                "Time from a refresh being requested to Discord accepting the edit or post.",
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
                registry=registry,
            ),
            message_writes=Counter(
                "game_scheduler_bot_message_writes",
                "Game messages written to Discord, by kind (post, edit, repost after a 404).",
                ["kind"],
                registry=registry,
            ),
            dms_sent=Counter(
                "game_scheduler_bot_dms",
                "Direct messages to players, by kind (reminder, cancelled) and outcome.",
                ["kind", "outcome"],
                registry=registry,
            ),
            gateway_connected=Gauge(
                "game_scheduler_bot_gateway_connected",
                "1 while the bot's Gateway connection is up.",
                registry=registry,
            ),
            discord_requests=Counter(
                "game_scheduler_bot_discord_requests",
                "REST requests the request scheduler let out to Discord, by urgency.",
                ["urgency"],
                registry=registry,
            ),
            discord_request_wait_seconds=Histogram(
                "game_scheduler_bot_discord_request_wait_seconds",
                "Time a REST request waited for its turn in the global budget, by urgency.",
                ["urgency"],
                buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
                registry=registry,
            ),
        )

    @classmethod
    def unregistered(cls) -> BotMetrics:
        """Metrics on a registry of their own, for parts built without the bot's."""
        return cls.create(CollectorRegistry())


class RateLimitCounter(logging.Handler):
    """Counts discord.py's "We are being rate limited" warnings: one per 429 it meets."""

    def __init__(self, metrics: BotMetrics, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        """Count a 429 warning; ignore every other record."""
        message = str(record.msg)
        if message.startswith("We are being rate limited"):
            self.metrics.discord_rate_limits.labels("route").inc()
        elif message.startswith("Global rate limit has been hit"):
            self.metrics.discord_rate_limits.labels("global").inc()


def install_rate_limit_counter(metrics: BotMetrics) -> RateLimitCounter:
    """Attach the 429 counter to discord.py's HTTP logger; one per process, counting into
    the latest bot's metrics (idempotent)."""
    http_logger = logging.getLogger("discord.http")
    for handler in http_logger.handlers:
        if isinstance(handler, RateLimitCounter):
            handler.metrics = metrics
            return handler
    handler = RateLimitCounter(metrics, level=logging.WARNING)
    http_logger.addHandler(handler)
    # A quieter LOG_LEVEL must not hide the warnings the counter needs to see.
    if http_logger.getEffectiveLevel() > logging.WARNING:
        http_logger.setLevel(logging.WARNING)
    return handler
