"""`game-scheduler run`: the whole system as supervised child processes.

Each component runs in its own process, exactly as it would in production, so `run` tests
the real wiring. A child that dies is restarted with exponential backoff; Ctrl-C or
SIGTERM stops them all within the grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

STOP_GRACE = 8.0  # seconds between SIGTERM and SIGKILL; the whole stop stays under 10 s
MAX_BACKOFF = 30.0  # seconds
HEALTHY_AFTER = 60.0  # seconds a child must live before its backoff resets


@dataclass(frozen=True)
class ChildSpec:
    """A component to run: its name and its full command line."""

    name: str
    command: tuple[str, ...]

    @classmethod
    def of_cli(cls, name: str, *args: str) -> ChildSpec:
        """A child running `python -m game_scheduler <args>` with this interpreter."""
        return cls(name, (sys.executable, "-m", "game_scheduler", *args))


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = field(default=0)


class Supervisor:
    """Starts children, restarts the ones that die, and stops them all on request."""

    def __init__(self, specs: Sequence[ChildSpec], env: Mapping[str, str]) -> None:
        self._children = [_Child(spec) for spec in specs]
        self._env = dict(env)
        self._stopping = False

    def _start(self, child: _Child) -> None:
        # Its own process group: a Ctrl-C in the terminal reaches only the supervisor, which
        # then stops the children in reverse order (the bot before the sandbox it talks to).
        child.process = subprocess.Popen(  # noqa: S603 - our own command lines
            child.spec.command, env=self._env, process_group=0
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started", extra={"child": child.spec.name, "pid": child.process.pid})

    def _check(self, child: _Child, now: float) -> None:
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.restarts += 1
                self._start(child)
            return
        assert child.process is not None
        code = child.process.poll()
        if code is None:
            if now - child.started_at > HEALTHY_AFTER:
                child.backoff = 1.0
            return
        child.restart_at = now + child.backoff
        log.warning(
            "child exited; restarting",
            extra={"child": child.spec.name, "exit_code": code, "in_seconds": child.backoff},
        )
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: leave the supervision loop and stop every child."""
        self._stopping = True

    def run(self) -> int:
        """Supervise until SIGINT or SIGTERM, then stop every child; returns 0."""
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        for child in self._children:
            self._start(child)
        while not self._stopping:
            now = time.monotonic()
            for child in self._children:
                self._check(child, now)
            time.sleep(0.2)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        """SIGTERM the children last-started first; SIGKILL what outlives the grace period."""
        deadline = time.monotonic() + STOP_GRACE
        for child in reversed(self._children):
            process = child.process
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("child did not stop in time; killing", extra={"child": child.spec.name})
                process.kill()
                process.wait()
        log.info("all stopped")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment plus the settings `run` decided for its children."""
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
