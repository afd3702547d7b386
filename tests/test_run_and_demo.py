"""A second `run` that finds a port taken says which and leaves the live run alone; `demo`
targets any copy and explains a stale state file in a sentence."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from game_scheduler.cli import API_PORT, RUN_METRICS_PORTS


def _game_scheduler(
    *args: str, state_home: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(state_home), **(extra_env or {})}
    env.pop("API_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "game_scheduler", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write_state(state_home: Path, state: Mapping[str, object]) -> Path:
    path = state_home / "game-scheduler" / "run.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(state))
    return path


def test_a_second_run_on_a_taken_port_names_it_exits_non_zero_and_keeps_the_state_file(
    tmp_path: Path,
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        bot_metrics_port = listener.getsockname()[1]
        offset = bot_metrics_port - RUN_METRICS_PORTS["bot"]
        state = {"api_url": f"http://127.0.0.1:{API_PORT + offset}", "api_token": "live"}
        state_file = _write_state(tmp_path, state)
        before = state_file.read_text()
        # No database is needed: the check comes before migrating.
        done = _game_scheduler(
            "run",
            "--port-offset",
            str(offset),
            state_home=tmp_path,
            extra_env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        )
    assert done.returncode == 2
    # Named, with its component (other ports may happen to be taken on a busy machine too).
    assert f"{bot_metrics_port} (bot)" in done.stderr
    assert "already in use" in done.stderr
    assert "Game Scheduler is running" not in done.stdout
    assert "Traceback" not in done.stderr
    assert state_file.read_text() == before


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_on_a_stale_state_file_says_so_in_a_sentence(tmp_path: Path) -> None:
    _write_state(tmp_path, {"api_url": f"http://127.0.0.1:{_free_port()}", "api_token": "old"})
    done = _game_scheduler("demo", "--no-follow", state_home=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "was written by a `game-scheduler run` that has stopped" in done.stderr
    assert "--api-url" in done.stderr


def test_demo_uses_api_url_and_token_over_the_state_file(tmp_path: Path) -> None:
    _write_state(tmp_path, {"api_url": "http://127.0.0.1:1", "api_token": "old"})
    url = f"http://127.0.0.1:{_free_port()}"
    done = _game_scheduler(
        "demo", "--no-follow", "--api-url", url, "--token", "mine", state_home=tmp_path
    )
    assert done.returncode == 1
    assert f"Nothing answers at {url}" in done.stderr
    assert "Check --api-url and --token." in done.stderr


def test_demo_without_any_token_says_how_to_get_one(tmp_path: Path) -> None:
    done = _game_scheduler("demo", "--no-follow", state_home=tmp_path)
    assert done.returncode == 1
    assert "no API token" in done.stderr
