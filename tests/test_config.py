"""Settings come from the environment with the defaults of DESIGN.md."""

from __future__ import annotations

import pytest

from game_scheduler.config import Settings, to_libpq_url, to_sqlalchemy_url

ENV_NAMES = (
    "DATABASE_URL",
    "RABBITMQ_URL",
    "DISCORD_BOT_TOKEN",
    "DISCORD_API_BASE",
    "API_TOKEN",
    "SCHEDULER_MAX_TIMEOUT",
    "SCHEDULER_BATCH_SIZE",
    "LOG_LEVEL",
    "LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/game_scheduler"
    assert settings.rabbitmq_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.discord_bot_token is None
    assert settings.uses_sandbox
    assert settings.discord_api_base == "http://127.0.0.1:8001/api/v10"
    assert settings.api_token is None
    assert (settings.scheduler_max_timeout, settings.scheduler_batch_size) == (900, 500)
    assert (settings.log_level, settings.log_format) == ("INFO", "text")


def test_a_token_points_the_bot_at_discord_and_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "very-secret")
    monkeypatch.setenv("SCHEDULER_BATCH_SIZE", "100")
    settings = Settings()
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert "very-secret" not in repr(settings)
    assert settings.scheduler_batch_size == 100


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEDULER_MAX_TIMEOUT", "-1")
    with pytest.raises(ValueError, match="scheduler_max_timeout"):
        Settings()


def test_driver_urls() -> None:
    assert to_sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert to_libpq_url("postgres://u@h/db") == "postgresql://u@h/db"
    with pytest.raises(ValueError, match="postgresql://"):
        to_sqlalchemy_url("mysql://u@h/db")
