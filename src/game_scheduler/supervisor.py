"""`game-scheduler run`: the whole system as supervised child processes.

Each component runs in its own process, exactly as it would in production, so `run` tests
the real wiring. A child that dies is restarted with exponential backoff, and so is one
whose health check keeps failing; SIGINT (Ctrl-C), SIGTERM and SIGHUP (its terminal
closed) stop them all within the grace period. Children die with the supervisor even when
it is killed outright: on Linux each asks the kernel for SIGTERM when its parent dies
(`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

STOP_GRACE = 8.0  # seconds between SIGTERM and SIGKILL; the whole stop stays under 10 s
MAX_BACKOFF = 30.0  # seconds
HEALTHY_AFTER = 60.0  # seconds a child must live before its backoff resets
HEALTH_GRACE = 30.0  # seconds after a start before a failing health check counts
HEALTH_INTERVAL = 5.0  # seconds between health checks of one child
HEALTH_TIMEOUT = 2.0  # seconds a health check may take
UNHEALTHY_CHECKS = 3  # consecutive failed checks before the child is restarted
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(frozen=True)
class ChildSpec:
    """A component to run: its name and its full command line."""

    name: str
    command: tuple[str, ...]
    health_url: str | None = None  # answers 2xx while the child is healthy

    @classmethod
    def of_cli(cls, name: str, *args: str, health_url: str | None = None) -> ChildSpec:
        """A child running `python -m game_scheduler <args>` with this interpreter."""
        return cls(name, (sys.executable, "-m", "game_scheduler", *args), health_url)


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = field(default=0)
    next_health_check: float = 0.0
    failed_checks: int = 0


def _die_with_parent() -> None:
    """In the child before exec: ask the kernel for SIGTERM when the supervisor dies."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def check_health(url: str, timeout: float = HEALTH_TIMEOUT) -> str | None:
    """GET a health URL; None when it answers 2xx, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 - our URL
            reply.read()
    except urllib.error.HTTPError as error:
        return f"answered {error.code}: {error.read(500).decode(errors='replace')}"
    except (OSError, ValueError) as error:
        return f"did not answer: {error}"
    return None


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
            child.spec.command,
            env=self._env,
            process_group=0,
            # preexec_fn is unsafe only with threads about; the supervisor runs none.
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        child.failed_checks = 0
        child.next_health_check = child.started_at + HEALTH_GRACE
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
            if self._unhealthy(child, now):
                self._stop_child(child, time.monotonic() + STOP_GRACE)
                self._schedule_restart(child, now)
            elif now - child.started_at > HEALTHY_AFTER and child.failed_checks == 0:
                child.backoff = 1.0
            return
        log.warning(
            "child exited; restarting",
            extra={"child": child.spec.name, "exit_code": code, "in_seconds": child.backoff},
        )
        self._schedule_restart(child, now)

    def _schedule_restart(self, child: _Child, now: float) -> None:
        child.restart_at = now + child.backoff
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def _unhealthy(self, child: _Child, now: float) -> bool:
        """True once the child's health check failed UNHEALTHY_CHECKS times in a row."""
        if child.spec.health_url is None or now < child.next_health_check:
            return False
        child.next_health_check = now + HEALTH_INTERVAL
        problem = check_health(child.spec.health_url)
        if problem is None:
            child.failed_checks = 0
            return False
        child.failed_checks += 1
        extra = {"child": child.spec.name, "problem": problem, "failed": child.failed_checks}
        if child.failed_checks < UNHEALTHY_CHECKS:
            log.warning("child health check failed", extra=extra)
            return False
        log.error("child unhealthy; restarting", extra={**extra, "in_seconds": child.backoff})
        return True

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: leave the supervision loop and stop every child."""
        self._stopping = True

    def run(self) -> int:
        """Supervise until SIGINT, SIGTERM or SIGHUP, then stop every child; returns 0."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.request_stop)
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
            self._stop_child(child, deadline)
        log.info("all stopped")

    @staticmethod
    def _stop_child(child: _Child, deadline: float) -> None:
        process = child.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("child did not stop in time; killing", extra={"child": child.spec.name})
            process.kill()
            process.wait()


def taken_ports(ports: Mapping[str, int], host: str = "127.0.0.1") -> dict[str, int]:
    """The ports, by name, that something already listens on (or that cannot be bound)."""
    taken = {}
    for name, port in ports.items():
        with socket.socket() as probe:
            # As the servers bind: a socket left in TIME_WAIT by a clean stop is not "taken".
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                taken[name] = port
    return taken


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment plus the settings `run` decided for its children."""
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
