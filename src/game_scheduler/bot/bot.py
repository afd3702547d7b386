"""The bot process: a discord.py client and the `bot_events` consumer, in one event loop.

`build_bot(settings)` wires the parts; `main()` runs it until SIGTERM or SIGINT
(`game-scheduler bot`, or `python -m game_scheduler.bot.bot`). Database work runs on
threads (`asyncio.to_thread`) through the synchronous game service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import discord
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.bucket_pruning import prune_buckets_at_most_every
from game_scheduler.bot.checkin_presses import CheckinPresses
from game_scheduler.bot.commands import build_command_tree, register_commands
from game_scheduler.bot.direct_messages import DirectMessenger
from game_scheduler.bot.discord_endpoint import point_discord_at
from game_scheduler.bot.events.fast_path import EventTriage
from game_scheduler.bot.events.handlers import EventHandlers
from game_scheduler.bot.events.transitions import AppliedTransitions
from game_scheduler.bot.metrics import BotMetrics, install_rate_limit_counter
from game_scheduler.bot.post_errors import games_with_post_errors
from game_scheduler.bot.presses import GamePresses
from game_scheduler.bot.refresher import MessageRefresher
from game_scheduler.bot.request_scheduler import DEFAULT_RATE, RequestScheduler
from game_scheduler.bot.scheduled_events import ScheduledEventMirror
from game_scheduler.bot.views.checkin_view import CHECKIN_ITEMS
from game_scheduler.bot.views.game_view import PERSISTENT_ITEMS
from game_scheduler.clock import Clock, SystemClock
from game_scheduler.config import Settings
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.gc_pauses import freeze_startup_objects
from game_scheduler.log_config import configure_logging
from game_scheduler.messaging.consumer import DEFAULT_PREFETCH, EventConsumer
from game_scheduler.messaging.dedup import forget_processed_before
from game_scheduler.messaging.metrics import ConsumerMetrics
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY, Topology
from game_scheduler.observability import Heartbeat, start_metrics_server

logger = logging.getLogger(__name__)

SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - not a secret: the sandbox accepts any token
HEALTH_INTERVAL = 5.0  # seconds between liveness checks
GATEWAY_GRACE = 120.0  # seconds the Gateway may stay down before /healthz fails
# Deduplication records outlive any redelivery by far; older ones only take up space.
DEDUP_RETENTION = timedelta(days=14)
PRUNE_INTERVAL = 3600.0  # seconds between prunes
DATABASE_THREADS = 20  # as many as the engine's pool (10) and overflow (10) give connections


class GameBot(discord.Client):
    """The Discord client that posts games, answers buttons and handles queued events."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        rabbitmq_url: str,
        clock: Clock,
        topology: Topology = DEFAULT_TOPOLOGY,
        heartbeat: Heartbeat | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        guild_ready_timeout: float = 2.0,  # seconds discord.py waits for guilds before READY
        command_guild_ids: Sequence[int] = (),  # register slash commands there, not globally
        public_url: str = "http://127.0.0.1:8000",
        registry: CollectorRegistry | None = None,  # None: a registry of its own (tests)
        requests_per_second: float = DEFAULT_RATE,  # the global budget the bot allows itself
    ) -> None:
        registry = CollectorRegistry() if registry is None else registry
        self.metrics = BotMetrics.create(registry)
        # Every REST request waits here for its turn (the aiohttp trace hook below).
        self.request_scheduler = RequestScheduler(requests_per_second, metrics=self.metrics)
        # The bot never joins voice: discord.py's warnings about voice libraries are noise.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # Guilds only: interactions arrive without any intent, and no privileged one is needed.
        super().__init__(
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            http_trace=self.request_scheduler.trace_config(discord.http.Route.BASE),
        )
        self.messenger = DirectMessenger(self, sessions, metrics=self.metrics)
        self.refresher = MessageRefresher(
            self,
            sessions,
            public_url=public_url,
            metrics=self.metrics,
            messenger=self.messenger,
            now=clock.now,
        )
        self.scheduled_events = ScheduledEventMirror(
            self, sessions, clock, public_url=public_url, requests=self.request_scheduler
        )
        applied_transitions = AppliedTransitions()
        self.event_handlers = EventHandlers(
            sessions,
            self.refresher,
            self.messenger,
            clock,
            on_game_changed=self.scheduled_events.request,
            applied=applied_transitions,
        )
        self.press_handler = GamePresses(sessions, clock)
        self.checkin_handler = CheckinPresses(sessions, clock)
        self.command_tree = build_command_tree(
            self, sessions, clock, self.refresher.mark_dirty, public_url=public_url
        )
        self._command_guild_ids = tuple(command_guild_ids)
        self.consumer = EventConsumer(
            rabbitmq_url,
            self.event_handlers.consumer_handlers(),
            topology=topology,
            prefetch=prefetch,
            triage=EventTriage(sessions, self.refresher, transitions=(applied_transitions, clock)),
            metrics=ConsumerMetrics.create(registry),
        )
        self.heartbeat = heartbeat or Heartbeat(max_silence=GATEWAY_GRACE + 2 * HEALTH_INTERVAL)
        self._sessions = sessions
        self._clock = clock
        self._background: list[asyncio.Task[None]] = []
        self._startup_frozen = False
        self._disconnected_since: float | None = time.monotonic()
        # Set when a background task that must run for ever ends: the process then exits 1.
        self.failed = asyncio.Event()
        self.failure: str | None = None
        self.heartbeat.add_check(self.health_problem)

    def _supervise(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background task that must not end; if it does, log why and fail the bot."""
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(self._on_background_done)
        self._background.append(task)

    def _on_background_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.is_closed() or self.consumer.stopping:
            return
        error = task.exception()
        reason = f"{type(error).__name__}: {error}" if error is not None else "returned"
        self.failure = f"{task.get_name()} ended: {reason}"
        logger.error(
            "background task ended; stopping the bot",
            extra={"task": task.get_name(), "error": reason},
            exc_info=error,
        )
        self.failed.set()

    async def setup_hook(self) -> None:
        """After login: register the persistent buttons and start consuming events."""
        # Registered before the Gateway connects, so a press on any old message is handled.
        self.add_dynamic_items(*PERSISTENT_ITEMS, *CHECKIN_ITEMS)
        install_rate_limit_counter(self.metrics)
        prune_buckets_at_most_every(self.http)
        try:
            await register_commands(self.command_tree, self._command_guild_ids)
        except discord.HTTPException as exc:
            # The bot still posts games and answers buttons; commands wait for a restart.
            logger.error("could not register slash commands", extra={"error": repr(exc)})
        # REST works from here on, so events need not wait for the Gateway's READY.
        self._supervise(self.consumer.run(), "bot-consumer")
        self._supervise(self._watch_health(), "bot-health")
        self._supervise(self._prune_forever(), "bot-prune")

    async def on_connect(self) -> None:
        """The Gateway connection is up."""
        self._disconnected_since = None
        self.metrics.gateway_connected.set(1)

    async def on_resumed(self) -> None:
        """The Gateway session resumed."""
        await self.on_connect()

    async def on_ready(self) -> None:
        """READY received: log who we are."""
        logger.info("bot ready", extra={"user": str(self.user), "guilds": len(self.guilds)})
        if not self._startup_frozen:
            # The caches READY filled live as long as the process: out of the GC's way.
            freeze_startup_objects()
            self._startup_frozen = True

    async def on_disconnect(self) -> None:
        """The Gateway connection dropped; discord.py reconnects by itself."""
        if self._disconnected_since is None:
            self._disconnected_since = time.monotonic()
            if not self.is_closed():
                logger.warning("gateway disconnected; reconnecting")
        self.metrics.gateway_connected.set(0)

    async def retry_failed_posts(self, guild_id: int) -> int:
        """Refresh the server's games whose post was refused; returns how many."""
        game_ids = await asyncio.to_thread(games_with_post_errors, self._sessions, guild_id)
        for game_id in game_ids:
            self.refresher.mark_dirty(game_id)
        if game_ids:
            logger.info(
                "retrying refused posts after a server change",
                extra={"guild_id": guild_id, "games": len(game_ids)},
            )
        return len(game_ids)

    # Permissions are fixed in Discord's server, role or channel settings: each retries.
    async def on_guild_update(self, _before: discord.Guild, after: discord.Guild) -> None:
        """The server's settings changed."""
        await self.retry_failed_posts(after.id)

    async def on_guild_role_update(self, _before: discord.Role, after: discord.Role) -> None:
        """A role (perhaps the bot's) changed its permissions."""
        await self.retry_failed_posts(after.guild.id)

    async def on_guild_channel_update(
        self, _before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        """A channel's permission overwrites (or anything else about it) changed."""
        await self.retry_failed_posts(after.guild.id)

    def health_problem(self) -> str | None:
        """Why the bot cannot do its work right now, or None; `/healthz` fails at once on it."""
        if self.failure is not None:
            return self.failure
        consumer = self._background[0] if self._background else None
        if consumer is None or consumer.done():
            return "the event consumer is not running"
        return self.consumer.problem

    def is_healthy(self) -> bool:
        """The consumer consumes and the Gateway is up, or was down for less than the grace."""
        if self.health_problem() is not None:
            return False
        down = self._disconnected_since
        return down is None or time.monotonic() - down < GATEWAY_GRACE

    async def _watch_health(self) -> None:
        while True:
            if self.is_healthy():
                self.heartbeat.beat()
            self.refresher.forget_idle_channels()
            await asyncio.sleep(HEALTH_INTERVAL)

    def prune_dedup_records(self) -> int:
        """Forget deduplication records older than the retention; returns how many."""
        with self._sessions.begin() as session:
            return forget_processed_before(session, self._clock.now() - DEDUP_RETENTION)

    async def _prune_forever(self) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(self.prune_dedup_records)
                if removed:
                    logger.info("pruned deduplication records", extra={"removed": removed})
            except SQLAlchemyError as exc:
                logger.warning("could not prune deduplication records", extra={"error": repr(exc)})
            await asyncio.sleep(PRUNE_INTERVAL)

    async def close(self) -> None:
        """Stop taking events, finish those in hand and pending edits, then disconnect."""
        self.consumer.stop()
        consumer = self._background[0] if self._background else None
        if consumer is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(consumer), timeout=30)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.refresher.wait_idle(), timeout=10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.scheduled_events.wait_idle(), timeout=5)
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        self._background.clear()
        await super().close()
        self.request_scheduler.close()


def build_bot(
    settings: Settings,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    topology: Topology = DEFAULT_TOPOLOGY,
    heartbeat: Heartbeat | None = None,
    guild_ready_timeout: float = 2.0,  # seconds
    registry: CollectorRegistry | None = None,
) -> GameBot:
    """Wire a bot from settings; nothing connects until it is started.

    Its metrics go to `registry` (the process's, from `main`), or to one of its own.
    """
    point_discord_at(settings.discord_api_base)
    if sessions is None:
        sessions = make_session_factory(make_engine(settings.database_url, pool_size=10))
    return GameBot(
        sessions=sessions,
        rabbitmq_url=settings.rabbitmq_url,
        clock=clock or SystemClock(),
        topology=topology,
        heartbeat=heartbeat,
        guild_ready_timeout=guild_ready_timeout,
        command_guild_ids=settings.discord_guild_ids,
        public_url=settings.public_url,
        registry=registry,
        requests_per_second=settings.discord_requests_per_second,
    )


def bot_token(settings: Settings) -> str:
    """The bot token, or a placeholder the sandbox accepts."""
    if settings.discord_bot_token is None:
        return SANDBOX_TOKEN
    return settings.discord_bot_token.get_secret_value()


async def run_bot(
    bot: GameBot,
    token: str,
    stop: asyncio.Event | None = None,
    early_stop: threading.Event | None = None,
) -> int:
    """Run until `stop` is set (or SIGTERM/SIGINT), then close cleanly; 0 on a clean stop."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers' database calls run on these threads; the default (CPU count + 4) queues a
    # burst's transactions behind each other while PostgreSQL has room for more.
    loop.set_default_executor(ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="bot-db"))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if early_stop is not None and early_stop.is_set():
        stop.set()  # a signal arrived while the process was still starting
    runner = asyncio.create_task(bot.start(token), name="bot-gateway")
    stopper = asyncio.create_task(stop.wait())
    failed = asyncio.create_task(bot.failed.wait())
    try:
        await asyncio.wait({runner, stopper, failed}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done() and runner.exception() is not None:
            logger.error("bot stopped unexpectedly", exc_info=runner.exception())
            return 1
        if bot.failed.is_set():
            logger.error("bot stopping after a failure", extra={"error": bot.failure})
            return 1
        logger.info("bot stopping")
        return 0
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        stopper.cancel()
        failed.cancel()
        await bot.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await runner


def main(settings: Settings | None = None, *, metrics_port: int = 0) -> int:
    """Run the bot until SIGTERM or SIGINT; return the process exit code."""
    # Until the event loop takes over, a SIGTERM during startup is remembered, not fatal.
    early_stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: early_stop.set())
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    heartbeat = Heartbeat(max_silence=GATEWAY_GRACE + 2 * HEALTH_INTERVAL)
    server = start_metrics_server(metrics_port, heartbeat, settings.metrics_host)
    engine = make_engine(settings.database_url, pool_size=10)
    try:
        bot = build_bot(
            settings,
            sessions=make_session_factory(engine),
            heartbeat=heartbeat,
            registry=REGISTRY,  # the one the metrics server serves
        )
        logger.info(
            "bot starting",
            extra={"discord_api_base": settings.discord_api_base, "sandbox": settings.uses_sandbox},
        )
        return asyncio.run(run_bot(bot, bot_token(settings), early_stop=early_stop))
    finally:
        engine.dispose()
        if server is not None:
            server.stop()


def _cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m game_scheduler.bot.bot")
    parser.add_argument("--metrics-port", type=int, default=0, help="0 turns metrics off")
    args = parser.parse_args(argv)
    return main(metrics_port=args.metrics_port)


if __name__ == "__main__":
    sys.exit(_cli())
