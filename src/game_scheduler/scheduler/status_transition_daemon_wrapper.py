"""The status-transitions instance: `game.status_transition_due` at each `transition_time`."""

from __future__ import annotations

from game_scheduler.config import Settings
from game_scheduler.db.models import GameStatusSchedule
from game_scheduler.scheduler.event_builders import build_status_transition_event
from game_scheduler.scheduler.runner import main_from_command_line, run_daemon


def main(settings: Settings | None = None, *, metrics_port: int = 0) -> int:
    """Run the status transition daemon until SIGTERM/SIGINT; returns the exit code."""
    return run_daemon(
        settings,
        notify_channel="game_status_schedule_changed",
        model_class=GameStatusSchedule,
        time_field="transition_time",
        status_field="executed",
        event_builder=build_status_transition_event,
        metrics_port=metrics_port,
    )


if __name__ == "__main__":
    raise SystemExit(main_from_command_line(main, __doc__))
