"""Discord OAuth2 login for people: authorization code with `state` and PKCE, via Authlib.

`start()` gives the URL to send the browser to and the `state` and PKCE verifier to keep
until the callback; `finish()` exchanges the code (with the verifier) for tokens and reads
who the person is and which servers they are in. `refresh()` renews an access token.
The authorize page is under `DISCORD_WEB_BASE`, the token endpoint and the person's
`/users/@me` and `/users/@me/guilds` under `DISCORD_API_BASE`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from game_scheduler.config import Settings

logger = logging.getLogger(__name__)

SCOPES = "identify guilds"
CALLBACK_PATH = "/auth/callback"
TIMEOUT = 10.0  # seconds per call to Discord
VERIFIER_LENGTH = 64  # characters; RFC 7636 allows 43 to 128


class LoginFailed(Exception):
    """Discord refused the code or the token, or did not answer; the message is for people."""


@dataclass(frozen=True, slots=True)
class LoginStart:
    """Where to send the browser, and what to remember until it comes back."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Tokens:
    """A person's Discord tokens; `expires_at` is a Unix time in seconds."""

    access_token: str
    refresh_token: str | None
    expires_at: float


@dataclass(frozen=True, slots=True)
class Person:
    """Who logged in, and the servers Discord says they are in."""

    user_id: int
    username: str
    guild_ids: tuple[int, ...]
    tokens: Tokens


class DiscordLogin:
    """The OAuth2 client of the configured Discord application (or the sandbox's)."""

    def __init__(self, settings: Settings) -> None:
        self._client_id = settings.oauth_client_id
        self._client_secret = settings.oauth_client_secret
        self._authorize_url = f"{settings.discord_web_base}/oauth2/authorize"
        self._api_base = settings.discord_api_base.rstrip("/")
        self.redirect_uri = f"{settings.public_url}{CALLBACK_PATH}"

    @property
    def configured(self) -> bool:
        """False when a real Discord is used but no client id and secret were given."""
        return bool(self._client_id and self._client_secret)

    def _session(self, token: dict[str, Any] | None = None) -> OAuth2Session:
        return OAuth2Session(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=SCOPES,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token=token,
            default_timeout=TIMEOUT,
        )

    def start(self) -> LoginStart:
        """A fresh authorization URL with its own random `state` and PKCE verifier."""
        verifier = generate_token(VERIFIER_LENGTH)
        with self._session() as session:
            url, state = session.create_authorization_url(
                self._authorize_url, code_verifier=verifier, prompt="none"
            )
        return LoginStart(url=url, state=state, code_verifier=verifier)

    def finish(self, code: str, code_verifier: str) -> Person:
        """Exchange the callback's code for tokens and read the person and their servers."""
        with self._session() as session:
            try:
                token = session.fetch_token(
                    f"{self._api_base}/oauth2/token",
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            except OAuthError as exc:
                # The error code is Discord's; the description may echo request details.
                logger.info("Discord refused a login code: %s", exc.error)
                raise LoginFailed("Discord did not accept the login; please log in again") from None
            except requests.RequestException as exc:
                raise LoginFailed(_unreachable(exc)) from None
            tokens = _tokens(token)
        user = self._get(tokens.access_token, "users/@me")
        if not isinstance(user, dict) or "id" not in user:
            raise LoginFailed("Discord did not say who you are; please log in again")
        username = str(user.get("global_name") or user.get("username") or user["id"])
        return Person(
            user_id=int(user["id"]),
            username=username,
            guild_ids=self.guild_ids(tokens.access_token),
            tokens=tokens,
        )

    def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a refresh token; raises LoginFailed when Discord refuses it."""
        with self._session() as session:
            try:
                token = session.refresh_token(
                    f"{self._api_base}/oauth2/token", refresh_token=refresh_token
                )
            except OAuthError as exc:
                logger.info("Discord refused a refresh token: %s", exc.error)
                raise LoginFailed("your Discord login ended; please log in again") from None
            except requests.RequestException as exc:
                raise LoginFailed(_unreachable(exc)) from None
        return _tokens(token)

    def guild_ids(self, access_token: str) -> tuple[int, ...]:
        """The servers the person is in, as Discord lists them for their token."""
        guilds = self._get(access_token, "users/@me/guilds")
        if not isinstance(guilds, list):
            raise LoginFailed("Discord did not list your servers; please log in again")
        return tuple(int(g["id"]) for g in guilds if isinstance(g, dict) and "id" in g)

    def _get(self, access_token: str, path: str) -> Any:
        try:
            response = requests.get(
                f"{self._api_base}/{path}",
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise LoginFailed(_unreachable(exc)) from None
        if response.status_code != 200:
            logger.info("Discord answered %d to %s", response.status_code, path)
            raise LoginFailed("Discord refused your login; please log in again")
        return response.json()


def _tokens(token: dict[str, Any]) -> Tokens:
    expires_at = token.get("expires_at") or time.time() + float(token.get("expires_in") or 0)
    return Tokens(
        access_token=str(token["access_token"]),
        refresh_token=token.get("refresh_token"),
        expires_at=float(expires_at),
    )


def _unreachable(exc: Exception) -> str:
    logger.warning("Discord could not be reached for a login: %s", type(exc).__name__)
    return "Discord could not be reached; try again in a moment"
