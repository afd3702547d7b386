"""Settings read from the environment (DATABASE_URL, RABBITMQ_URL, ...; docs/operations.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DISCORD_API_BASE = "https://discord.com/api/v10"
SANDBOX_API_BASE = "http://127.0.0.1:8001/api/v10"
DISCORD_WEB_BASE = "https://discord.com"
SANDBOX_WEB_BASE = "http://127.0.0.1:8001"
# The sandbox's built-in OAuth2 application: used when DISCORD_CLIENT_ID is unset. Not
# secrets: the sandbox is a local development tool and says so.
SANDBOX_CLIENT_ID = "1"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a public development value


class Settings(BaseSettings):
    """Everything a process needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/game_scheduler"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    discord_bot_token: SecretStr | None = None
    discord_api_base: str = ""
    # REST requests per second the bot allows itself: under Discord's global 50, see
    # docs/bot.md; raise it only with a raised limit from Discord.
    discord_requests_per_second: float = Field(default=46.0, gt=0, le=10_000)
    api_token: SecretStr | None = None
    scheduler_max_timeout: float = Field(default=900.0, gt=0)  # seconds
    scheduler_batch_size: int = Field(default=500, ge=1, le=10_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Where people reach the API and dashboard; calendar links are built on it.
    public_url: str = "http://127.0.0.1:8000"
    # Where /metrics and /healthz listen; loopback unless a scraper elsewhere needs them.
    metrics_host: str = "127.0.0.1"
    # Slash commands go to these guilds (instantly) instead of globally; comma-separated ids.
    discord_guild_ids: Annotated[tuple[int, ...], NoDecode] = ()

    @field_validator("discord_guild_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    discord_client_id: str = ""
    discord_client_secret: SecretStr | None = None
    discord_web_base: str = ""
    session_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _default_discord_api_base(self) -> Settings:
        # Without a token there is no real Discord to talk to: the local sandbox stands in.
        if not self.discord_api_base:
            self.discord_api_base = DISCORD_API_BASE if self.discord_bot_token else SANDBOX_API_BASE
        if not self.discord_web_base:
            self.discord_web_base = DISCORD_WEB_BASE if self.discord_bot_token else SANDBOX_WEB_BASE
        self.public_url = self.public_url.rstrip("/")
        self.discord_web_base = self.discord_web_base.rstrip("/")
        return self

    @property
    def uses_sandbox(self) -> bool:
        """True when the bot talks to the local sandbox instead of Discord."""
        return self.discord_bot_token is None

    @property
    def oauth_client_id(self) -> str:
        """The OAuth2 application's id: DISCORD_CLIENT_ID, else the sandbox's built-in one.

        Empty when a real Discord is used without DISCORD_CLIENT_ID: login is then off.
        """
        if self.discord_client_id:
            return self.discord_client_id
        return SANDBOX_CLIENT_ID if self.uses_sandbox else ""

    @property
    def oauth_client_secret(self) -> str:
        """The OAuth2 application's secret, else the sandbox's built-in (public) one."""
        secret = self.discord_client_secret.get_secret_value() if self.discord_client_secret else ""
        if secret or self.discord_client_id:
            return secret
        return SANDBOX_CLIENT_SECRET if self.uses_sandbox else ""


def to_sqlalchemy_url(database_url: str) -> str:
    """Turn a libpq URL into SQLAlchemy's psycopg 3 URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got {database_url!r}")


def to_libpq_url(database_url: str) -> str:
    """Turn any of our accepted database URLs into a plain libpq URL for psycopg."""
    return "postgresql://" + to_sqlalchemy_url(database_url)[len("postgresql+psycopg://") :]
