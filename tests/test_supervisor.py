"""`run` keeps its children alive and stops them all promptly."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from game_scheduler import supervisor
from game_scheduler.supervisor import ChildSpec, Supervisor, child_env


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_a_dead_child_is_restarted_and_all_stop_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "starts"
    # Each start appends a line, then the child dies at once: the supervisor must restart it.
    dying = _python(f"open({str(marker)!r}, 'a').write('x\\n')")
    # This one ignores SIGTERM, so stopping must fall back to SIGKILL within the grace period.
    stubborn = _python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    monkeypatch.setattr(supervisor, "STOP_GRACE", 1.0)
    sup = Supervisor([ChildSpec("dying", dying), ChildSpec("stubborn", stubborn)], child_env({}))
    caplog.set_level(logging.INFO, logger="game_scheduler.supervisor")

    stopper = threading.Timer(3.5, sup.request_stop, args=(signal.SIGTERM, None))
    stopper.start()
    began = time.monotonic()
    # Supervisor.run installs signal handlers, which only the main thread may do: fine here.
    assert sup.run() == 0
    elapsed = time.monotonic() - began

    starts = marker.read_text().count("x")
    assert 2 <= starts <= 3  # started, restarted after 1 s, then after 2 s more (backoff)
    assert elapsed < 3.5 + 1.0 + 1.0
    assert "child exited; restarting" in caplog.text
    assert "did not stop in time" in caplog.text


def test_children_stop_last_started_first(tmp_path: Path) -> None:
    log_file = tmp_path / "stops"

    def recorder(name: str) -> tuple[str, ...]:
        return _python(
            "import signal, sys, time\n"
            "def stop(*_):\n"
            f"    open({str(log_file)!r}, 'a').write({name!r} + '\\n'); sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "time.sleep(60)\n"
        )

    specs = [ChildSpec(name, recorder(name)) for name in ("sandbox", "api", "bot")]
    sup = Supervisor(specs, child_env({}))
    threading.Timer(1.5, sup.request_stop, args=(signal.SIGTERM, None)).start()
    assert sup.run() == 0
    assert log_file.read_text().split() == ["bot", "api", "sandbox"]
