"""`serve` as an operator runs it: a generated token printed once, then a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.integration

SERVE = (
    "import sys\n"
    "from game_scheduler.api.app import serve\n"
    "from game_scheduler.config import Settings\n"
    "sys.exit(serve(Settings(database_url=sys.argv[1]), port=int(sys.argv[2])))\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the API did not come up")


def test_serve_prints_a_generated_token_once_and_stops_on_sigterm(database_url: str) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "API_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, database_url, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith("API token: ")
        token = first_line.removeprefix("API token: ").strip()
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, time.monotonic() + 15)

        authorised = httpx.get(f"{base}/api/v1/games", headers={"Authorization": f"Bearer {token}"})
        refused = httpx.get(f"{base}/api/v1/games")

        assert authorised.status_code == 200
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert token not in stdout
    assert token not in stderr
