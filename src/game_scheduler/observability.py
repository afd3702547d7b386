"""Prometheus metrics and a liveness check, served by every long-running process.

A loop calls `Heartbeat.beat()` each time it comes round; `/healthz` fails once the last
beat is older than the loop's longest legitimate sleep plus a margin, so an orchestrator
restarts a process whose loop is stuck. A component that knows it cannot do its work (a
consumer that cannot reach the broker) adds a check: while it names a problem, `/healthz`
answers 503 at once, with the problem in the body.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


class Heartbeat:
    """Records when a loop last came round; thread-safe enough for one writer."""

    def __init__(self, max_silence: float) -> None:
        self.max_silence = max_silence  # seconds
        self._last = time.monotonic()
        self._checks: list[Callable[[], str | None]] = []

    def add_check(self, check: Callable[[], str | None]) -> None:
        """Also fail while `check()` names a problem (it must be quick and thread-safe)."""
        self._checks.append(check)

    def problems(self) -> list[str]:
        """What the added checks report right now."""
        return [problem for check in self._checks if (problem := check()) is not None]

    def beat(self) -> None:
        """Say the loop is alive."""
        self._last = time.monotonic()

    def seconds_since_beat(self) -> float:
        """How long since the loop last came round."""
        return time.monotonic() - self._last

    def is_alive(self) -> bool:
        """False once the loop has been silent too long, or while a check names a problem."""
        return self.seconds_since_beat() <= self.max_silence and not self.problems()


class MetricsServer:
    """Serves `/metrics` and `/healthz` on its own thread; port 0 in the CLI means off."""

    def __init__(
        self,
        port: int,
        heartbeat: Heartbeat,
        *,
        host: str = "127.0.0.1",
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._heartbeat = heartbeat
        self._registry = registry
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0 in tests)."""
        return int(self._server.server_address[1])

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._reply(200, generate_latest(outer._registry), CONTENT_TYPE_LATEST)
                elif self.path == "/healthz":
                    beat = outer._heartbeat
                    problems = beat.problems()
                    silence = beat.seconds_since_beat()
                    ok = silence <= beat.max_silence and not problems
                    if silence > beat.max_silence:
                        problems.append(f"the loop has not come round for {silence:.0f} s")
                    body = json.dumps(
                        {"ok": ok, "seconds_since_loop": round(silence, 1), "problems": problems}
                    )
                    self._reply(200 if ok else 503, body.encode(), "application/json")
                else:
                    self._reply(404, b"not found", "text/plain")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # scrapes every few seconds would drown the logs

        return Handler

    def start(self) -> MetricsServer:
        """Start serving in the background."""
        self._thread.start()
        log.info("metrics and health served", extra={"port": self.port})
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


DEFAULT_METRICS_HOST = "127.0.0.1"  # loopback: a scraper elsewhere needs --metrics-host 0.0.0.0


def start_metrics_server(
    port: int, heartbeat: Heartbeat, host: str = DEFAULT_METRICS_HOST
) -> MetricsServer | None:
    """Start the server on `host` unless `port` is 0, which turns metrics off."""
    if port == 0:
        return None
    return MetricsServer(port, heartbeat, host=host).start()
