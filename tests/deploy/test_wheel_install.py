"""The path the images take, without Docker: build the wheel from exactly what the build
context holds, install it into a fresh virtual environment, and run every image's command.

Slow (a minute or two: a fresh install of every dependency), hence `integration`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.deploy_files import (
    DOCKER_DIR,
    REPO,
    SERVICE_DOCKERFILES,
    dockerfile_command,
    option_flags,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

# What .dockerignore lets into the build context.
BUILD_CONTEXT = ("pyproject.toml", "README.md", "src")
# What each command calls, imported only once the command is chosen (so `--help` never
# touches it): module -> function.
ENTRY_POINTS = {
    "game_scheduler.cli": "main",
    "game_scheduler.db.migrate": "migrate",
    "game_scheduler.scheduler.notification_daemon_wrapper": "main",
    "game_scheduler.scheduler.status_transition_daemon_wrapper": "main",
    "game_scheduler.scheduler.outbox_daemon_wrapper": "main",
    "game_scheduler.scheduler.series_daemon_wrapper": "main",
    "game_scheduler.bot.bot": "main",
    "game_scheduler.api.app": "serve",
    "game_scheduler.sandbox.server": "serve",
}
# Importing these runs something: alembic's env.py migrates, __main__ runs the CLI.
NOT_IMPORTABLE_ALONE = ("game_scheduler.db.migrations", "game_scheduler.__main__")


@dataclass(frozen=True)
class Installed:
    """A virtual environment holding only the built wheel and its dependencies."""

    bin: Path
    workdir: Path  # outside the repository, so `src/` is not importable by accident

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        program = self.bin / argv[0] if (self.bin / argv[0]).exists() else Path(argv[0])
        return subprocess.run(
            [str(program), *argv[1:]],
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    context.mkdir()
    for name in BUILD_CONTEXT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, context / name)
    quiet = ["--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", str(work / "dist"), "."],
        cwd=context,
        check=True,
        timeout=300,
    )
    (wheel,) = (work / "dist").glob("game_scheduler-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, timeout=120)
    venv_python = work / "venv" / "bin" / "python"
    subprocess.run(
        [str(venv_python), "-m", "pip", "install", *quiet, str(wheel)], check=True, timeout=600
    )
    return Installed(bin=work / "venv" / "bin", workdir=work)


IMAGE_COMMANDS = {
    name: dockerfile_command(DOCKER_DIR / dockerfile)
    for name, dockerfile in sorted(SERVICE_DOCKERFILES.items())
}


@pytest.mark.parametrize("service", sorted(IMAGE_COMMANDS))
def test_image_command_runs_from_the_installed_wheel(installed: Installed, service: str) -> None:
    command = IMAGE_COMMANDS[service]
    result = installed.run(*command, "--help")
    assert result.returncode == 0, f"{command} --help: {result.stderr}"
    for flag in option_flags(command):
        assert flag in result.stdout, f"{command}: --help does not mention {flag}"


def test_python_dash_m_runs_the_same_cli(installed: Installed) -> None:
    result = installed.run("python", "-m", "game_scheduler", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("migrate", "scheduler", "bot", "api", "sandbox", "run"):
        assert command in result.stdout


@pytest.mark.parametrize(("module", "function"), sorted(ENTRY_POINTS.items()))
def test_entry_point_imports(installed: Installed, module: str, function: str) -> None:
    # `--help` never imports the component, so a dependency missing from pyproject.toml
    # would only show when the container starts. Import it here instead.
    result = installed.run("python", "-c", f"import {module} as m; assert callable(m.{function})")
    assert result.returncode == 0, result.stderr


def test_every_module_of_the_wheel_imports(installed: Installed) -> None:
    script = (
        "import importlib, pkgutil, game_scheduler\n"
        "skip = " + repr(NOT_IMPORTABLE_ALONE) + "\n"
        "for info in pkgutil.walk_packages(game_scheduler.__path__, 'game_scheduler.'):\n"
        "    if not info.name.startswith(skip):\n"
        "        importlib.import_module(info.name)\n"
        "print(game_scheduler.__file__)\n"
    )
    result = installed.run("python", "-c", script)
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout, "imported the source tree, not the wheel"


def test_wheel_ships_the_migrations(installed: Installed) -> None:
    script = (
        "from game_scheduler.db.migrate import MIGRATIONS_DIR\n"
        "assert (MIGRATIONS_DIR / 'env.py').is_file()\n"
        "assert (MIGRATIONS_DIR / 'script.py.mako').is_file()\n"
        "assert list((MIGRATIONS_DIR / 'versions').glob('*.py'))\n"
    )
    result = installed.run("python", "-c", script)
    assert result.returncode == 0, result.stderr
