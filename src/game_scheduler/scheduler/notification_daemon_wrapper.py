"""The notifications instance: `game.reminder_due` at each reminder's `notification_time`."""

from __future__ import annotations

from game_scheduler.config import Settings
from game_scheduler.db.models import NotificationSchedule
from game_scheduler.scheduler.event_builders import build_game_reminder_event
from game_scheduler.scheduler.runner import main_from_command_line, run_daemon


def main(settings: Settings | None = None, *, metrics_port: int = 0) -> int:
    """Run the notification daemon until SIGTERM/SIGINT; returns the exit code."""
    return run_daemon(
        settings,
        notify_channel="notification_schedule_changed",
        model_class=NotificationSchedule,
        time_field="notification_time",
        status_field="sent",
        event_builder=build_game_reminder_event,
        metrics_port=metrics_port,
    )


if __name__ == "__main__":
    raise SystemExit(main_from_command_line(main, __doc__))
