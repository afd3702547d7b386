"""LISTEN on one channel and wait for a NOTIFY, a timeout, a reconnect or an interrupt.

`PostgresListener` holds one autocommit psycopg 3 connection with TCP keepalives. `wait()`
select()s on the connection's socket and on a self-pipe, so `interrupt()` (safe from another
thread or a signal handler) ends a wait at once. A dead connection is noticed when its
socket reports an error (a terminated backend, a keepalive failure) or, at the latest, by a
cheap `SELECT 1` when a wait begins after a quiet spell (before it sleeps, so that a
wait ending at a row's due time is not made late by it); the listener then reconnects and returns
`RECONNECTED`, because notifications sent while it was away are lost and the caller must
look at the table once. `game_scheduler.testing.FakeListener` is the in-memory double.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import select
import time
from typing import Protocol

import psycopg
from psycopg import sql

from game_scheduler.config import to_libpq_url

log = logging.getLogger(__name__)

# Linux lets select() oversleep by up to 0.1% of its timeout (its timer slack: 2 ms late on
# a 2 s sleep, measured). A wait longer than SHORT_WAIT first sleeps that fraction twice
# over short of its deadline, then the rest, which is short and so precise.
SHORT_WAIT = 0.05  # seconds
OVERSLEEP = 0.002  # fraction of a long wait left for the second, short sleep


class WakeReason(enum.Enum):
    """Why `wait()` returned."""

    NOTIFIED = "notified"  # a NOTIFY arrived on the channel (several coalesce into one)
    TIMEOUT = "timeout"  # nothing happened within the timeout
    RECONNECTED = "reconnected"  # the connection was (re)established: notifies may be lost
    INTERRUPTED = "interrupted"  # interrupt() was called


class Listener(Protocol):
    """What the daemon needs from a LISTEN connection: `PostgresListener`, or a fake."""

    def connect(self) -> None:
        """Start listening now (otherwise the first wait does)."""

    def wait(self, timeout: float) -> WakeReason:
        """Block until a NOTIFY, `timeout` seconds, a reconnect or `interrupt()`."""
        ...

    def interrupt(self) -> None:
        """End the current or next wait at once; safe from other threads and signal handlers."""

    def close(self) -> None:
        """Release the connection."""


class PostgresListener:
    """A LISTEN connection that reconnects by itself; one waiting thread at a time."""

    def __init__(
        self,
        database_url: str,
        channel: str,
        *,
        connect_timeout: int = 10,  # seconds
        keepalives_idle: int = 10,  # seconds of silence before the first TCP probe
        keepalives_interval: int = 5,  # seconds between probes
        keepalives_count: int = 3,  # unanswered probes before the kernel drops the socket
        liveness_interval: float = 30.0,  # seconds; quiet this long, a timeout checks the link
        max_retry_delay: float = 5.0,  # seconds between failed reconnect attempts, at most
    ) -> None:
        self.channel = channel
        self._conninfo = psycopg.conninfo.make_conninfo(
            to_libpq_url(database_url),
            connect_timeout=connect_timeout,
            keepalives=1,
            keepalives_idle=keepalives_idle,
            keepalives_interval=keepalives_interval,
            keepalives_count=keepalives_count,
            application_name=f"listener:{channel}"[:63],
        )
        self._liveness_interval = liveness_interval
        self._max_retry_delay = max_retry_delay
        self._retry_delay = 0.0
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._last_ok = time.monotonic()
        self.reconnects = 0  # connections opened after the first
        self._connected_once = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    @property
    def backend_pid(self) -> int | None:
        """The server process id of the LISTEN connection (tests terminate it)."""
        return None if self._conn is None else self._conn.info.backend_pid

    def connect(self) -> None:
        """Open the connection and LISTEN now; raises psycopg.OperationalError if it cannot."""
        self._drop()
        conn = psycopg.connect(self._conninfo, autocommit=True)
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        self._conn = conn
        self._last_ok = time.monotonic()
        self._retry_delay = 0.0
        if self._connected_once:
            self.reconnects += 1
        self._connected_once = True

    def wait(self, timeout: float) -> WakeReason:
        """Block until a NOTIFY, `timeout` seconds, a reconnect or `interrupt()`; never raises."""
        deadline = time.monotonic() + max(timeout, 0.0)
        if self._conn is None:
            return self._reconnect(deadline)
        if time.monotonic() - self._last_ok >= self._liveness_interval and not self._alive():
            return self._reconnect(deadline)
        conn = self._conn
        while True:
            try:
                # Notifications may sit in psycopg's backlog, read during an earlier query.
                if list(conn.notifies(timeout=0)):  # drain: NOTIFYs so far coalesce
                    return WakeReason.NOTIFIED
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return WakeReason.TIMEOUT
                sleep = remaining * (1 - OVERSLEEP) if remaining > SHORT_WAIT else remaining
                readable, _, _ = select.select([conn.fileno(), self._wake_r], [], [], sleep)
            except (psycopg.Error, OSError) as exc:
                log.warning(
                    "listen connection lost", extra={"channel": self.channel, "error": repr(exc)}
                )
                self._drop()
                return self._reconnect(deadline)
            if self._wake_r in readable:
                self._drain_pipe()
                return WakeReason.INTERRUPTED
            # A readable socket without a notification (a notice, a keepalive reply, an
            # error) goes round once more: notifies() reads it, or raises if the link died.

    def interrupt(self) -> None:
        """End the current or next wait at once; safe from any thread and signal handlers."""
        # A full or closed pipe means a wake-up is already pending or nobody waits any more.
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Close the connection and the pipe; idempotent."""
        self._drop()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def _alive(self) -> bool:
        """After a quiet spell: does the connection still answer? (If not, it is dropped.)"""
        try:
            assert self._conn is not None  # only called while connected
            self._conn.execute("SELECT 1")
            self._last_ok = time.monotonic()
            return True
        except psycopg.Error as exc:
            log.warning(
                "listen connection dead", extra={"channel": self.channel, "error": repr(exc)}
            )
            self._drop()
            return False

    def _reconnect(self, deadline: float) -> WakeReason:
        try:
            self.connect()
        except psycopg.Error as exc:
            self._retry_delay = min(max(self._retry_delay * 2, 0.1), self._max_retry_delay)
            log.warning(
                "listen reconnect failed",
                extra={"channel": self.channel, "error": repr(exc), "retry_in": self._retry_delay},
            )
            pause = min(self._retry_delay, max(deadline - time.monotonic(), 0.0))
            readable, _, _ = select.select([self._wake_r], [], [], pause)
            if readable:
                self._drain_pipe()
                return WakeReason.INTERRUPTED
            return WakeReason.TIMEOUT
        log.info("listening", extra={"channel": self.channel, "reconnects": self.reconnects})
        return WakeReason.RECONNECTED

    def _drain_pipe(self) -> None:
        try:
            while os.read(self._wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # It may be broken already; closing is best effort.
            with contextlib.suppress(psycopg.Error):
                conn.close()
