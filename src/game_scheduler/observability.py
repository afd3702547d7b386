"""Prometheus metrics and a liveness check, served by every long-running process.

A loop calls `Heartbeat.beat()` each time it comes round; `/healthz` fails once the last
beat is older than the loop's longest legitimate sleep plus a margin, so an orchestrator
restarts a process whose loop is stuck.
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)


class Heartbeat:
    """Records when a loop last came round; thread-safe enough for one writer."""

    def __init__(self, max_silence: float) -> None:
        self.max_silence = max_silence  # seconds
        self._last = time.monotonic()

    def beat(self) -> None:
        """Say the loop is alive."""
        self._last = time.monotonic()

    def seconds_since_beat(self) -> float:
        """How long since the loop last came round."""
        return time.monotonic() - self._last

    def is_alive(self) -> bool:
        """False once the loop has been silent longer than it ever should be."""
        return self.seconds_since_beat() <= self.max_silence


class MetricsServer:
    """Serves `/metrics` and `/healthz` on its own thread; port 0 in the CLI means off."""

    def __init__(
        self,
        port: int,
        heartbeat: Heartbeat,
        *,
        host: str = "0.0.0.0",
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
                    silence = outer._heartbeat.seconds_since_beat()
                    ok = outer._heartbeat.is_alive()
                    body = f'{{"ok": {str(ok).lower()}, "seconds_since_loop": {silence:.1f}}}'
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


def start_metrics_server(port: int, heartbeat: Heartbeat) -> MetricsServer | None:
    """Start the server unless `port` is 0, which turns metrics off."""
    if port == 0:
        return None
    return MetricsServer(port, heartbeat).start()
