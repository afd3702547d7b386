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
DEMO_PLAYERS = (
    "900000000000000011",
    "900000000000000012",
    "900000000000000013",
    "900000000000000014",
)
STARTS_IN = timedelta(minutes=3)
CHECKIN_MINUTES = 2  # the check-in DMs go out a minute after the demo starts
FOLLOW_LIMIT = 7 * 60.0  # seconds; the demo game is over after about four minutes


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
                "checkin_minutes": CHECKIN_MINUTES,
            },
        )
        game_id = game["id"]
        for player in DEMO_PLAYERS:
            api.call("POST", f"/api/v1/games/{game_id}/participants", json={"user_id": player})
        # A seated player leaves: the first on the waitlist is promoted and told by DM.
        api.call("DELETE", f"/api/v1/games/{game_id}/participants/{DEMO_PLAYERS[0]}")
        print(
            f"Created game {game_id}, starting at {starts:%H:%M:%S} UTC with"
            f" {len(DEMO_PLAYERS)} players on two seats; player {DEMO_PLAYERS[0][-2:]} left,"
            f" so {DEMO_PLAYERS[2][-2:]} moved up from the waitlist (see their DM).\n"
            "Watch it on the sandbox page: the post now, the check-in DMs (I'm coming / Can't"
            " make it) in a minute, the reminders in two, IN_PROGRESS in three, COMPLETED in"
            " four.",
            flush=True,
        )
        if not follow:
            return 0
        status = game["status"]
        print(f"  {datetime.now(UTC):%H:%M:%S}  {status}", flush=True)
        deadline = time.monotonic() + FOLLOW_LIMIT
        checkin = _CheckinAnswers(_read_state(state_path).get("sandbox_url"), game_id)
        while status != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(1)
            checkin.answer_when_asked()
            current = api.call("GET", f"/api/v1/games/{game_id}")["status"]
            if current != status:
                status = current
                print(f"  {datetime.now(UTC):%H:%M:%S}  {status}", flush=True)
    if status != "COMPLETED":
        print("The game did not complete in time: are the scheduler and the bot running?")
        return 1
    return 0


class _CheckinAnswers:
    """Presses the check-in buttons on the sandbox as the players would: one is coming, the
    other cannot make it, which frees the seat for the last one waiting."""

    def __init__(self, sandbox_url: str | None, game_id: str) -> None:
        self._url = sandbox_url.rstrip("/") if sandbox_url else None
        self._game_id = game_id
        self._answers = {DEMO_PLAYERS[1]: "I'm coming", DEMO_PLAYERS[2]: "Can't make it"}

    def answer_when_asked(self) -> None:
        if self._url is None or not self._answers:
            return
        try:
            with httpx.Client(base_url=self._url, timeout=5) as sandbox:
                dms = sandbox.get("/sandbox/state").json().get("dms", {})
                for player, label in list(self._answers.items()):
                    button = self._button(dms.get(player, []), label)
                    if button is None:
                        continue
                    message_id, custom_id = button
                    body = {
                        "message_id": message_id,
                        "custom_id": custom_id,
                        "user_id": player,
                        "wait": True,  # for the bot's answer, to print it
                    }
                    answer = sandbox.post("/sandbox/click", json=body).json()
                    said = answer.get("response", {}).get("content", "")
                    print(
                        f"  {datetime.now(UTC):%H:%M:%S}  player {player[-2:]}: {label}: {said}",
                        flush=True,
                    )
                    del self._answers[player]
        except (httpx.HTTPError, ValueError):
            return  # no sandbox (a real Discord): people press the buttons themselves

    def _button(self, messages: list[dict[str, Any]], label: str) -> tuple[str, str] | None:
        for message in messages:
            for row in message.get("components", []):
                for component in row.get("components", []):
                    custom_id = str(component.get("custom_id", ""))
                    if component.get("label") == label and self._game_id in custom_id:
                        return str(message["id"]), custom_id
        return None
