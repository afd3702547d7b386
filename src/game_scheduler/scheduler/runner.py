"""What every daemon wrapper shares: settings, logging, signals, metrics, one run.

The wrappers only name their table, fields, channel and event builder; `run_daemon` does
the rest, so `python -m game_scheduler.scheduler.<wrapper>` and the CLI behave alike.
"""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from game_scheduler.config import Settings
from game_scheduler.logging import configure_logging
from game_scheduler.messaging.events import Event
from game_scheduler.observability import start_metrics_server
from game_scheduler.scheduler.generic_scheduler_daemon import SchedulerDaemon

log = logging.getLogger(__name__)


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
    daemon = SchedulerDaemon(
        settings.database_url,
        settings.rabbitmq_url,
        notify_channel,
        model_class,
        time_field,
        status_field,
        event_builder,
        settings.scheduler_max_timeout,
        batch_size=settings.scheduler_batch_size,
    )
    install_stop_signals(daemon.stop)
    server = start_metrics_server(metrics_port, daemon.heartbeat)
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
