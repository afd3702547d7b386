"""`run` keeps its children alive and stops them all promptly."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
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


def _pids(path: Path, count: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            pids = [int(line) for line in path.read_text().split()]
            if len(pids) >= count:
                return pids
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} children started")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _gone_within(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _supervisor_process(pid_file: Path) -> subprocess.Popen[bytes]:
    """A supervisor of two children that record their pids, in its own process."""
    child = (
        f"import os, time; open({str(pid_file)!r}, 'a').write(f'{{os.getpid()}}\\n');"
        " time.sleep(60)"
    )
    script = (
        "import sys\n"
        "from game_scheduler.supervisor import ChildSpec, Supervisor, child_env\n"
        f"child = (sys.executable, '-c', {child!r})\n"
        "specs = [ChildSpec('a', child), ChildSpec('b', child)]\n"
        "sys.exit(Supervisor(specs, child_env({})).run())\n"
    )
    return subprocess.Popen([sys.executable, "-c", script])


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and the parent-death signal")
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_every_stop_signal_stops_the_children_and_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    pid_file = tmp_path / "pids"
    with _supervisor_process(pid_file) as process:
        pids = _pids(pid_file, 2)
        process.send_signal(signum)
        assert process.wait(10) == 0
    assert _gone_within(pids, 5), "a child outlived the supervisor"


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and the parent-death signal")
def test_children_die_with_a_supervisor_killed_outright(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    with _supervisor_process(pid_file) as process:
        pids = _pids(pid_file, 2)
        process.kill()
        process.wait(10)
    assert _gone_within(pids, 5), "a child outlived the supervisor's SIGKILL"


def _unhealthy_server(marker: Path) -> tuple[str, ...]:
    # Starts, answers every health check with 503, and never exits by itself.
    return _python(
        "import http.server, sys\n"
        f"open({str(marker)!r}, 'a').write('x\\n')\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        '        body = b\'{"problems": ["cannot reach the broker"]}\'\n'
        "        self.send_response(503); self.send_header('Content-Length', str(len(body)))\n"
        "        self.end_headers(); self.wfile.write(body)\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H)\n"
        "s.allow_reuse_address = True\n"
        "s.serve_forever()\n"
    )


def test_a_child_whose_health_check_keeps_failing_is_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    marker = tmp_path / "starts"
    monkeypatch.setattr(supervisor, "HEALTH_GRACE", 0.5)
    monkeypatch.setattr(supervisor, "HEALTH_INTERVAL", 0.2)
    monkeypatch.setattr(supervisor, "UNHEALTHY_CHECKS", 2)
    spec = ChildSpec(
        "bot", (*_unhealthy_server(marker), str(port)), f"http://127.0.0.1:{port}/healthz"
    )
    sup = Supervisor([spec], child_env({}))
    caplog.set_level(logging.INFO, logger="game_scheduler.supervisor")
    threading.Timer(4.0, sup.request_stop, args=(signal.SIGTERM, None)).start()
    assert sup.run() == 0
    assert marker.read_text().count("x") >= 2
    assert "child unhealthy; restarting" in caplog.text
    # The child's own reason is in the log line.
    assert any("cannot reach the broker" in getattr(r, "problem", "") for r in caplog.records)


def test_taken_ports_names_the_port_in_use() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert supervisor.taken_ports({"api": port}) == {"api": port}
    assert supervisor.taken_ports({"api": port}) == {}
