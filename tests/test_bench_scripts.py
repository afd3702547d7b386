"""The Discord-side benchmarks start and read their options (running them is not a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "options"),
    [("friday.py", ["--games", "--stale", "--case"]), ("soak.py", ["--minutes", "--fault-every"])],
)
def test_the_benchmark_explains_its_options(script: str, options: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in options:
        assert option in result.stdout
