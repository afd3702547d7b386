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


def _api(settings: Settings, state_path: Path) -> tuple[str, str]:
    """The API URL and token: from the environment if set, else from what `run` left."""
    state: dict[str, str] = {}
    if state_path.exists():
        state = json.loads(state_path.read_text())
    token = settings.api_token.get_secret_value() if settings.api_token else state.get("api_token")
    if not token:
        raise SystemExit("no API token: start `game-scheduler run` first, or set API_TOKEN")
    return state.get("api_url", "http://127.0.0.1:8000"), token


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        raise SystemExit(f"the API said {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json()
    return body


def run_demo(settings: Settings, state_path: Path, *, follow: bool = True) -> int:
    """Create the sample game, add players, and (with `follow`) print each status change."""
    api_url, token = _api(settings, state_path)
    starts = datetime.now(UTC) + STARTS_IN
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        game = _check(
            client.post(
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
        )
        game_id = game["id"]
        for player in DEMO_PLAYERS:
            _check(client.post(f"/api/v1/games/{game_id}/participants", json={"user_id": player}))
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
            current = _check(client.get(f"/api/v1/games/{game_id}"))["status"]
            if current != status:
                status = current
                print(f"  {datetime.now(UTC):%H:%M:%S}  {status}", flush=True)
    if status != "COMPLETED":
        print("The game did not complete in time: are the scheduler and the bot running?")
        return 1
    return 0
