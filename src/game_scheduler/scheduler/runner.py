"""The scheduler's composition root: what every daemon wrapper shares.

The wrappers only name their table, fields, channel and event builder; `run_daemon` does
the rest (settings, logging, signals, metrics, one run), so
`python -m game_scheduler.scheduler.<wrapper>` and the CLI behave alike. `build_daemon`
is the one place that turns URLs into the daemon's engine, listener and publisher.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from game_scheduler.clock import Clock, SystemClock
from game_scheduler.config import Settings
from game_scheduler.gc_pauses import freeze_startup_objects
from game_scheduler.log_config import configure_logging
from game_scheduler.messaging.events import Event
from game_scheduler.messaging.publisher import EventPublisher, PikaPublisher
from game_scheduler.observability import Heartbeat, start_metrics_server
from game_scheduler.scheduler.generic_scheduler_daemon import SchedulerDaemon
from game_scheduler.scheduler.metrics import SchedulerMetrics
from game_scheduler.scheduler.postgres_listener import Listener, PostgresListener
from game_scheduler.scheduler.queries import ScheduleQueries, scheduler_engine

log = logging.getLogger(__name__)


def build_daemon(
    database_url: str,
    rabbitmq_url: str,
    notify_channel: str,
    model_class: type[Any],
    time_field: str,
    status_field: str,
    event_builder: Callable[[Any], Event],
    max_timeout: float = 900.0,  # seconds, longest sleep without looking at the table
    *,
    batch_size: int = 500,
    publisher: EventPublisher | None = None,
    listener: Listener | None = None,
    clock: Clock | None = None,
    heartbeat: Heartbeat | None = None,
    registry: CollectorRegistry | None = None,
    keepalive_interval: float = 10.0,  # seconds between publisher keepalives while idle
) -> SchedulerDaemon:
    """A daemon for one schedule table, its connections built from URLs (none opened yet).

    `publisher` and `listener` replace the real ones (tests pass fakes); the metrics go
    to `registry`, a fresh one if none is given (a registry takes each family only once).
    """
    queries = ScheduleQueries(model_class, time_field, status_field)
    return SchedulerDaemon(
        queries,
        notify_channel,
        event_builder,
        engine=scheduler_engine(database_url, f"scheduler:{queries.table_name}"),
        listener=listener or PostgresListener(database_url, notify_channel),
        publisher=publisher if publisher is not None else PikaPublisher(rabbitmq_url),
        metrics=SchedulerMetrics.create(registry if registry is not None else CollectorRegistry()),
        clock=clock or SystemClock(),
        max_timeout=max_timeout,
        batch_size=batch_size,
        heartbeat=heartbeat,
        keepalive_interval=keepalive_interval,
    )


def run_daemon(
    settings: Settings | None,
    *,
    notify_channel: str,
    model_class: type[Any],
    time_field: str,
    status_field: str,
    event_builder: Callable[[Any], Event],
    metrics_port: int = 0,
) -> int:
    """Run one daemon instance until SIGTERM or SIGINT; returns the process exit code."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    daemon = build_daemon(
        settings.database_url,
        settings.rabbitmq_url,
        notify_channel,
        model_class,
        time_field,
        status_field,
        event_builder,
        settings.scheduler_max_timeout,
        batch_size=settings.scheduler_batch_size,
        registry=REGISTRY,  # one daemon per process: the registry the metrics server serves
    )
    install_stop_signals(daemon.stop)
    server = start_metrics_server(metrics_port, daemon.heartbeat, settings.metrics_host)
    freeze_startup_objects()  # a full GC pass would delay whatever is due during it
    try:
        daemon.run()
    finally:
        if server is not None:
            server.stop()
    return 0


def install_stop_signals(stop: Callable[[], None]) -> None:
    """Make SIGTERM and SIGINT call `stop` (which must be signal-safe) instead of raising."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        # Only signal-safe work here: stop() sets a flag and writes one byte to a pipe.
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main_from_command_line(main: Callable[..., int], description: str | None) -> int:
    """`python -m <wrapper> [--metrics-port N]`: the wrapper's `main` with its one option."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--metrics-port", type=int, default=0, help="0 turns metrics off")
    args = parser.parse_args()
    return main(metrics_port=args.metrics_port)
