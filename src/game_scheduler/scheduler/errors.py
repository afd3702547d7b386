"""The scheduler package's exceptions: one root, and subclasses that carry what a caller needs."""

from __future__ import annotations


class SchedulerError(Exception):
    """Root of every error raised by `game_scheduler.scheduler`."""


class ScheduleConfigError(SchedulerError):
    """A daemon was configured with a model or field names that cannot work."""

    def __init__(self, reason: str, *, model: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.model = model
        self.field = field
