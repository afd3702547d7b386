"""The command line works as an installed script: help, and migrate on a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from game_scheduler.cli import build_parser

COMMANDS = [
    ["migrate"],
    ["scheduler", "notifications"],
    ["scheduler", "status-transitions"],
    ["scheduler", "outbox"],
    ["bot"],
    ["api"],
    ["sandbox"],
    ["run"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_of_the_design_parses(command: list[str]) -> None:
    args = build_parser().parse_args(command)
    assert callable(args.handler)


def test_unknown_scheduler_instance_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["scheduler", "reminders"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.integration
def test_python_dash_m_migrate_creates_the_database(database_url: str) -> None:
    name = f"gs_test_cli_{uuid.uuid4().hex[:8]}"
    url = database_url.rsplit("/", 1)[0] + "/" + name
    env = {**os.environ, "DATABASE_URL": url}
    try:
        for _ in range(2):  # safe to repeat
            done = subprocess.run(
                [sys.executable, "-m", "game_scheduler", "migrate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM game_sessions").fetchone() == (0,)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_run_keeps_one_session_secret_across_starts(tmp_path: Path) -> None:
    from game_scheduler.cli import _session_secret
    from game_scheduler.config import Settings

    state = tmp_path / "run.json"
    first = _session_secret(Settings(), state)
    state.write_text(json.dumps({"session_secret": first}))

    assert len(first) >= 32
    assert _session_secret(Settings(), state) == first
    assert _session_secret(Settings(session_secret="s" * 40), state) == "s" * 40
