"""The outbox instance: publishes each event the API wrote, once its transaction commits."""

from __future__ import annotations

from game_scheduler.config import Settings
from game_scheduler.db.models import EventOutbox
from game_scheduler.scheduler.event_builders import build_outbox_event
from game_scheduler.scheduler.runner import main_from_command_line, run_daemon


def main(settings: Settings | None = None, *, metrics_port: int = 0) -> int:
    """Run the outbox daemon until SIGTERM/SIGINT; returns the exit code."""
    return run_daemon(
        settings,
        notify_channel="event_outbox_changed",
        model_class=EventOutbox,
        time_field="available_at",
        status_field="published",
        event_builder=build_outbox_event,
        metrics_port=metrics_port,
    )


if __name__ == "__main__":
    raise SystemExit(main_from_command_line(main, __doc__))
