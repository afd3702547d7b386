"""`game-scheduler demo`: a sample game a newcomer can watch go by on the sandbox page.

It talks to the running API exactly as a user's script would, so it also shows the path a
real client takes: REST -> outbox -> RabbitMQ -> bot -> Discord (here the sandbox).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from game_scheduler.config import Settings

DEMO_GUILD = "900000000000000001"
DEMO_CHANNEL = "900000000000000002"
DEMO_HOST = "900000000000000003"
DEMO_PLAYERS = ("900000000000000011", "900000000000000012", "900000000000000013")
STARTS_IN = timedelta(minutes=2)
FOLLOW_LIMIT = 6 * 60.0  # seconds; the demo game is over after about three minutes


DEFAULT_API_URL = "http://127.0.0.1:8000"


def _read_state(state_path: Path) -> dict[str, str]:
    try:
        state = json.loads(state_path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise SystemExit(
            f"{state_path} is not a state file `game-scheduler run` wrote; delete it and"
            " start `run` again, or pass --api-url and --token."
        ) from None
    return {k: v for k, v in state.items() if isinstance(v, str)} if isinstance(state, dict) else {}


def _api(
    settings: Settings, state_path: Path, api_url: str | None, token: str | None
) -> tuple[str, str, bool]:
    """The API URL and token, and whether either came from what `run` left.

    Each comes from its option, else (the token) from API_TOKEN, else from the state file.
    """
    state = _read_state(state_path)
    from_state = False
    if token is None and settings.api_token is not None:
        token = settings.api_token.get_secret_value()
    if token is None and "api_token" in state:
        token, from_state = state["api_token"], True
    if not token:
        raise SystemExit(
            "no API token: start `game-scheduler run` first, or pass --token (or set API_TOKEN)"
        )
    if api_url is None and "api_url" in state:
        api_url, from_state = state["api_url"], True
    return api_url or DEFAULT_API_URL, token, from_state


class _Api:
    """Calls to the API that end the demo with a sentence, not a traceback, when they fail."""

    def __init__(self, client: httpx.Client, stale_hint: str) -> None:
        self._client = client
        self._stale_hint = stale_hint

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self._client.base_url}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError:
            raise SystemExit(f"Nothing answers at {url}.{self._stale_hint}") from None
        if response.status_code == 401:
            raise SystemExit(f"{url} refused the token.{self._stale_hint}")
        if response.is_error:
            raise SystemExit(f"the API said {response.status_code}: {response.text}")
        body: dict[str, Any] = response.json()
        return body


def run_demo(
    settings: Settings,
    state_path: Path,
    *,
    follow: bool = True,
    api_url: str | None = None,
    token: str | None = None,
) -> int:
    """Create the sample game, add players, and (with `follow`) print each status change."""
    api_url, token, from_state = _api(settings, state_path, api_url, token)
    stale_hint = (
        f" {state_path} was written by a `game-scheduler run` that has stopped (or was"
        " replaced): start `game-scheduler run` again, or pass --api-url and --token."
        if from_state
        else " Check --api-url and --token."
    )
    starts = datetime.now(UTC) + STARTS_IN
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        api = _Api(client, stale_hint)
        game = api.call(
            "POST",
            "/api/v1/games",
            json={
                "guild_id": DEMO_GUILD,
                "channel_id": DEMO_CHANNEL,
                "host_id": DEMO_HOST,
                "title": "Demo night: Deep Rock Galactic",
                "description": "A sample game made by `game-scheduler demo`.",
                "where": "Voice channel #squad",
                "signup_instructions": "Press Join below.",
                "scheduled_at": starts.isoformat(),
                "expected_duration_minutes": 1,
                "max_players": 2,
                "reminder_minutes": [1],
            },
        )
        game_id = game["id"]
        for player in DEMO_PLAYERS:
            api.call("POST", f"/api/v1/games/{game_id}/participants", json={"user_id": player})
        print(
            f"Created game {game_id}, starting at {starts:%H:%M:%S} UTC with"
            f" {len(DEMO_PLAYERS)} players (the last one on the waitlist).\n"
            "Watch it on the sandbox page: the post now, the reminder DMs in about a minute,"
            " IN_PROGRESS in two, COMPLETED in three.",
            flush=True,
        )
        if not follow:
            return 0
        status = game["status"]
        print(f"  {datetime.now(UTC):%H:%M:%S}  {status}", flush=True)
        deadline = time.monotonic() + FOLLOW_LIMIT
        while status != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(1)
            current = api.call("GET", f"/api/v1/games/{game_id}")["status"]
            if current != status:
                status = current
                print(f"  {datetime.now(UTC):%H:%M:%S}  {status}", flush=True)
    if status != "COMPLETED":
        print("The game did not complete in time: are the scheduler and the bot running?")
        return 1
    return 0
