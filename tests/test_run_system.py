"""`game-scheduler run` as a newcomer starts it: every component as a process, end to end.

A game created through the API is posted to the sandbox, starts on time, and shows it;
`demo` finds the running system; Ctrl-C stops everything with exit code 0.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from game_scheduler.cli import API_PORT, RUN_METRICS_PORTS, SANDBOX_PORT
from tests.fixtures.rabbitmq import own_vhost, vhost_url

pytestmark = pytest.mark.integration

CHANNEL = "900000000000000102"


def _free_offset() -> int:
    """A port offset at which every port `run` uses is free."""
    ports = [API_PORT, SANDBOX_PORT, *RUN_METRICS_PORTS.values()]
    for _ in range(50):
        offset = random.randrange(10_000, 30_000)
        try:
            for port in ports:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        return offset
    raise RuntimeError("no free ports for `run`")


def _eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def running_system(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Path, dict[str, str]]]:
    """`python -m game_scheduler run` on this test's database, vhost and ports."""
    with own_vhost("gs-run") as vhost:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": vhost_url(vhost),
            "XDG_STATE_HOME": str(tmp_path),
        }
        env.pop("DISCORD_BOT_TOKEN", None)
        env.pop("API_TOKEN", None)
        env.pop("DISCORD_API_BASE", None)
        log = tmp_path / "run.log"  # the logs of run and every child (stderr)
        command = [sys.executable, "-m", "game_scheduler", "run", "--port-offset"]
        with (
            log.open("w") as logs,
            (tmp_path / "run.out").open("w") as printed,
            subprocess.Popen(
                [*command, str(_free_offset())], env=env, stdout=printed, stderr=logs
            ) as process,
        ):
            try:
                state_file = tmp_path / "game-scheduler" / "run.json"
                state = _eventually(lambda: json.loads(state_file.read_text()), 30, "run.json")
                yield state, log, env
                process.send_signal(signal.SIGINT)
                began = time.monotonic()
                assert process.wait(15) == 0, log.read_text()[-3000:]
                assert time.monotonic() - began < 10
            finally:
                if process.poll() is None:
                    process.kill()


def test_a_game_created_through_the_api_is_posted_starts_and_everything_stops(
    running_system: tuple[dict[str, str], Path, dict[str, str]],
) -> None:
    state, log, env = running_system
    api = httpx.Client(
        base_url=state["api_url"],
        headers={"Authorization": f"Bearer {state['api_token']}"},
        timeout=5,
    )
    sandbox = httpx.Client(base_url=state["sandbox_url"], timeout=5)
    with api, sandbox:
        _eventually(lambda: api.get("/readyz").status_code == 200, 30, "API ready")
        starts = datetime.now(UTC) + timedelta(seconds=6)
        created = api.post(
            "/api/v1/games",
            json={
                "guild_id": "900000000000000001",
                "channel_id": CHANNEL,
                "host_id": "900000000000000003",
                "title": "System test night",
                "scheduled_at": starts.isoformat(),
                "max_players": 4,
            },
        )
        assert created.status_code == 201, created.text
        game_id = created.json()["id"]
        joined = api.post(
            f"/api/v1/games/{game_id}/participants", json={"user_id": "900000000000000011"}
        )
        assert joined.status_code == 201, joined.text

        def posted_message() -> dict[str, Any] | None:
            messages = sandbox.get("/sandbox/state").json()["channels"].get(CHANNEL, [])
            for message in messages:
                embed = message["embeds"][0]
                players = next(f for f in embed["fields"] if f["name"] == "Players")
                if embed["title"] == "System test night" and players["value"] == "1/4":
                    return message  # type: ignore[no-any-return]
            return None

        _eventually(posted_message, 30, "the game's message, with its player, in the sandbox")

        _eventually(
            lambda: api.get(f"/api/v1/games/{game_id}").json()["status"] == "IN_PROGRESS",
            30,
            "the game IN_PROGRESS at its start time",
        )

        def started_message() -> bool:
            message = posted_message()
            assert message is not None
            buttons = message["components"][0]["components"]
            footer = message["embeds"][0]["footer"]["text"]
            return footer.startswith("In progress") and all(b.get("disabled") for b in buttons)

        _eventually(started_message, 10, "the message showing the game started")

        # The demo finds the running system by itself (the state file `run` left).
        demo = subprocess.run(
            [sys.executable, "-m", "game_scheduler", "demo", "--no-follow"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        assert "Created game" in demo.stdout
    logs = log.read_text()
    assert "Traceback" not in logs
    assert "dispatched batch" in logs  # the schedulers did log their work...
    assert state["api_token"] not in logs  # ...and the token, printed once, was never logged
