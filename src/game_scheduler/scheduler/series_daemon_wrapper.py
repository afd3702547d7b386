"""The series instance: `game.series_due` when a series' next occurrences must become games.

The fourth use of the generic daemon, and like the other three only parameters: a table,
its time and status fields, a channel and an event builder.
"""

from __future__ import annotations

from game_scheduler.config import Settings
from game_scheduler.db.models import SeriesSchedule
from game_scheduler.scheduler.event_builders import build_series_due_event
from game_scheduler.scheduler.runner import main_from_command_line, run_daemon


def main(settings: Settings | None = None, *, metrics_port: int = 0) -> int:
    """Run the series daemon until SIGTERM/SIGINT; returns the exit code."""
    return run_daemon(
        settings,
        notify_channel="series_schedule_changed",
        model_class=SeriesSchedule,
        time_field="materialize_at",
        status_field="processed",
        event_builder=build_series_due_event,
        metrics_port=metrics_port,
    )


if __name__ == "__main__":
    raise SystemExit(main_from_command_line(main, __doc__))
