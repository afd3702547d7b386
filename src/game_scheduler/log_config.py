"""Logging set up once per process: text for people, one JSON object per line for machines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with `extra=` and is worth printing.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}
# Libraries that log every request, frame or setup step at INFO: our own lines suffice.
_CHATTY_LOGGERS = (
    "pika",
    "aio_pika",
    "aiormq",
    "discord.gateway",
    "uvicorn.access",
    "httpx",
    "alembic.runtime.plugins",
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the fields passed as `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A readable line with the `extra=` fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as text."""
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def _without_voice_warning(record: logging.LogRecord) -> bool:
    # The bot sends no voice; discord.py's warning that voice libraries are missing misleads.
    return "voice will NOT be supported" not in record.getMessage()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send all logs to stderr in the chosen format; safe to call twice."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("discord.client").addFilter(_without_voice_warning)
