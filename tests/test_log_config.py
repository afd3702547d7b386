"""Logs: one JSON object per line for machines, readable lines for people."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from game_scheduler.log_config import JsonFormatter, TextFormatter, configure_logging


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "game_scheduler.x", logging.INFO, __file__, 1, "dispatched %s", ("batch",), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_lines_carry_the_message_and_the_extra_fields() -> None:
    line = JsonFormatter().format(_record(schedule="event_outbox", count=500))
    entry = json.loads(line)
    assert entry["msg"] == "dispatched batch"
    assert (entry["level"], entry["logger"]) == ("INFO", "game_scheduler.x")
    assert (entry["schedule"], entry["count"]) == ("event_outbox", 500)
    assert entry["ts"].endswith("+00:00")


def test_json_lines_include_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc"]


def test_text_lines_append_the_extra_fields() -> None:
    line = TextFormatter().format(_record(schedule="event_outbox"))
    assert line.endswith("game_scheduler.x: dispatched batch schedule=event_outbox")


def test_configuring_twice_keeps_one_handler_and_quiets_chatty_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    level = root.level
    try:
        configure_logging("INFO", "json")
        configure_logging("INFO", "json")
        ours = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
        assert len(ours) == 1
        assert len(root.handlers) == 1
        assert logging.getLogger("pika").getEffectiveLevel() == logging.WARNING
    finally:
        root.setLevel(level)
