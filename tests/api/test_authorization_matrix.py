"""Every /api/v1 route x every kind of caller -> the status they get, from one table.

Callers: the admin token, and people logged in through the sandbox's OAuth2: a host (the
server's host role), a manager (Manage Events), a plain member, a member of another
server only (the outsider), and someone signed out. Each row gets a fresh game (or series)
in server A, hosted by the server's owner unless the row says otherwise. A refused request changes
nothing, and the outsider never sees a field of server A's game. A route of the app with
no row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.games import series as series_service
from game_scheduler.games import service
from game_scheduler.games import templates as template_store
from tests.api import people
from tests.api.conftest import API_TOKEN, NOW, START
from tests.fixtures.sandbox import SandboxHandle

pytestmark = pytest.mark.integration

SERIES_START = START.replace(second=0, tzinfo=None)  # a wall-clock time in UTC
CALLERS = ("admin", "host", "manager", "member", "outsider", "signed_out")
USER_OF = {
    "admin": people.MEMBER,  # whom the admin acts for where a row needs a user
    "host": people.HOST,
    "manager": people.MANAGER,
    "member": people.MEMBER,
    "outsider": people.OUTSIDER,
    "signed_out": people.MEMBER,
}
EVERYONE_IN_A = (people.OWNER, people.HOST, people.MANAGER, people.MEMBER)


@dataclass(frozen=True)
class Row:
    """One route as one kind of request, and the status each caller gets."""

    name: str
    method: str
    route: str  # the app's path template, to match against its routes
    path: Callable[[str, str], str]  # (game or series id, acting user id) -> URL
    expected: tuple[int, int, int, int, int, int]  # in CALLERS order
    body: Callable[[str], dict[str, Any]] | None = None  # acting user id -> JSON body
    host: str = people.OWNER
    roster: tuple[str, ...] = ()
    reads_game: bool = field(default=True)
    makes: str = "game"  # what the row's fresh thing is: "game", "series" or "template"
    template_roles: tuple[str, ...] = ()  # the host roles a fresh template is kept for


def _create_body(host_id: str) -> dict[str, Any]:
    return {
        "guild_id": people.GUILD_A,
        "channel_id": people.CHANNEL_A,
        "host_id": host_id,
        "title": "New game",
        "scheduled_at": START.isoformat(),
    }


GAMES = "/api/v1/games"
GAME = "/api/v1/games/{game_id}"
PARTICIPANTS = "/api/v1/games/{game_id}/participants"
PARTICIPANT = "/api/v1/games/{game_id}/participants/{user_id}"
SETTINGS = "/api/v1/guilds/{guild_id}/settings"
SERIES = "/api/v1/series"
ONE_SERIES = "/api/v1/series/{series_id}"
TEMPLATES = "/api/v1/guilds/{guild_id}/templates"
TEMPLATE = "/api/v1/guilds/{guild_id}/templates/{template_id}"
TEMPLATES_OF_A = f"/api/v1/guilds/{people.GUILD_A}/templates"


def _series_body(host_id: str) -> dict[str, Any]:
    game = {k: v for k, v in _create_body(host_id).items() if k != "scheduled_at"}
    return {
        **game,
        "rrule": "FREQ=WEEKLY",
        "timezone": "Europe/Berlin",
        "local_start": SERIES_START.isoformat(),
    }


def _skip_body(user_id: str) -> dict[str, Any]:
    return {"occurrence": SERIES_START.replace(tzinfo=UTC).isoformat()}


#            admin host manager member outsider signed_out
TABLE = [
    Row("create as myself", "POST", GAMES, lambda g, u: GAMES,
        (201, 201, 201, 403, 403, 401), body=_create_body),
    Row("create for the owner", "POST", GAMES, lambda g, u: GAMES,
        (201, 403, 201, 403, 403, 401), body=lambda u: _create_body(people.OWNER)),
    Row("list", "GET", GAMES, lambda g, u: GAMES,
        (200, 200, 200, 200, 200, 401)),
    Row("list server A", "GET", GAMES, lambda g, u: f"{GAMES}?guild_id={people.GUILD_A}",
        (200, 200, 200, 200, 200, 401)),
    Row("read", "GET", GAME, lambda g, u: f"{GAMES}/{g}",
        (200, 200, 200, 200, 404, 401)),
    Row("edit another's game", "PATCH", GAME, lambda g, u: f"{GAMES}/{g}",
        (200, 403, 200, 403, 404, 401), body=lambda u: {"title": "Changed"}),
    Row("edit the host's game", "PATCH", GAME, lambda g, u: f"{GAMES}/{g}",
        (200, 200, 200, 403, 404, 401), body=lambda u: {"title": "Changed"}, host=people.HOST),
    Row("cancel another's game", "DELETE", GAME, lambda g, u: f"{GAMES}/{g}",
        (200, 403, 200, 403, 404, 401)),
    Row("cancel the host's game", "DELETE", GAME, lambda g, u: f"{GAMES}/{g}",
        (200, 200, 200, 403, 404, 401), host=people.HOST),
    Row("join as myself", "POST", PARTICIPANTS, lambda g, u: f"{GAMES}/{g}/participants",
        (201, 201, 201, 201, 404, 401), body=lambda u: {"user_id": u}),
    Row("join as the owner", "POST", PARTICIPANTS, lambda g, u: f"{GAMES}/{g}/participants",
        (201, 403, 201, 403, 404, 401), body=lambda u: {"user_id": people.OWNER}),
    Row("leave as myself", "DELETE", PARTICIPANT,
        lambda g, u: f"{GAMES}/{g}/participants/{u}",
        (200, 200, 200, 200, 404, 401), roster=EVERYONE_IN_A),
    Row("remove the owner", "DELETE", PARTICIPANT,
        lambda g, u: f"{GAMES}/{g}/participants/{people.OWNER}",
        (200, 403, 200, 403, 404, 401), roster=EVERYONE_IN_A),
    Row("who am I", "GET", "/api/v1/me", lambda g, u: "/api/v1/me",
        (403, 200, 200, 200, 200, 401), reads_game=False),
    Row("change my settings", "PATCH", "/api/v1/me", lambda g, u: "/api/v1/me",
        (403, 200, 200, 200, 200, 401), body=lambda u: {"dm_reminders": False},
        reads_game=False),
    Row("read server A's settings", "GET", SETTINGS,
        lambda g, u: f"/api/v1/guilds/{people.GUILD_A}/settings",
        (200, 403, 200, 403, 404, 401), reads_game=False),
    Row("change server A's settings", "PATCH", SETTINGS,
        lambda g, u: f"/api/v1/guilds/{people.GUILD_A}/settings",
        (200, 403, 200, 403, 404, 401), body=lambda u: {"timezone": "Europe/Berlin"},
        reads_game=False),
    Row("create a series as myself", "POST", SERIES, lambda g, u: SERIES,
        (201, 201, 201, 403, 403, 401), body=_series_body, reads_game=False),
    Row("create a series for the owner", "POST", SERIES, lambda g, u: SERIES,
        (201, 403, 201, 403, 403, 401), body=lambda u: _series_body(people.OWNER),
        reads_game=False),
    Row("read a series", "GET", ONE_SERIES, lambda s, u: f"{SERIES}/{s}",
        (200, 200, 200, 200, 404, 401), makes="series"),
    Row("a series' occurrences", "GET", ONE_SERIES + "/occurrences",
        lambda s, u: f"{SERIES}/{s}/occurrences", (200, 200, 200, 200, 404, 401), makes="series"),
    Row("edit another's series", "PATCH", ONE_SERIES, lambda s, u: f"{SERIES}/{s}",
        (200, 403, 200, 403, 404, 401), body=lambda u: {"title": "Changed"}, makes="series"),
    Row("edit the host's series", "PATCH", ONE_SERIES, lambda s, u: f"{SERIES}/{s}",
        (200, 200, 200, 403, 404, 401), body=lambda u: {"title": "Changed"}, host=people.HOST,
        makes="series"),
    Row("skip in another's series", "POST", ONE_SERIES + "/skip",
        lambda s, u: f"{SERIES}/{s}/skip", (200, 403, 200, 403, 404, 401), body=_skip_body,
        makes="series"),
    Row("skip in the host's series", "POST", ONE_SERIES + "/skip",
        lambda s, u: f"{SERIES}/{s}/skip", (200, 200, 200, 403, 404, 401), body=_skip_body,
        host=people.HOST, makes="series"),
    Row("end another's series", "DELETE", ONE_SERIES, lambda s, u: f"{SERIES}/{s}",
        (200, 403, 200, 403, 404, 401), makes="series"),
    Row("end the host's series", "DELETE", ONE_SERIES, lambda s, u: f"{SERIES}/{s}",
        (200, 200, 200, 403, 404, 401), host=people.HOST, makes="series"),
    Row("server A's templates", "GET", TEMPLATES, lambda t, u: TEMPLATES_OF_A,
        (200, 200, 200, 403, 404, 401), makes="template"),
    Row("create a template", "POST", TEMPLATES, lambda t, u: TEMPLATES_OF_A,
        (201, 403, 201, 403, 404, 401), body=lambda u: {"name": "Fresh preset"},
        makes="template"),
    Row("read a template", "GET", TEMPLATE, lambda t, u: f"{TEMPLATES_OF_A}/{t}",
        (200, 200, 200, 403, 404, 401), makes="template"),
    Row("read a template kept for managers", "GET", TEMPLATE,
        lambda t, u: f"{TEMPLATES_OF_A}/{t}", (200, 403, 200, 403, 404, 401),
        makes="template", template_roles=(people.MANAGER_ROLE,)),
    Row("edit a template", "PATCH", TEMPLATE, lambda t, u: f"{TEMPLATES_OF_A}/{t}",
        (200, 403, 200, 403, 404, 401), body=lambda u: {"max_players": 5},
        makes="template"),
    Row("delete a template", "DELETE", TEMPLATE, lambda t, u: f"{TEMPLATES_OF_A}/{t}",
        (204, 403, 204, 403, 404, 401), makes="template"),
]  # fmt: skip


def _api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every /api/v1 operation the app serves."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    }


def test_every_route_has_a_row(app: FastAPI) -> None:
    """A new /api/v1 route needs its row in TABLE before this passes."""
    routes = _api_routes(app)
    covered = {(row.method, row.route) for row in TABLE}
    assert covered <= routes, "rows for routes the app does not serve"
    assert routes - covered == set(), "add these routes to the authorization matrix"


def _new_series(sessions: sessionmaker[Session], row: Row, title: str) -> str:
    new = series_service.NewSeries(
        guild_id=int(people.GUILD_A),
        channel_id=int(people.CHANNEL_A),
        host_id=int(row.host),
        title=title,
        rrule="FREQ=WEEKLY",
        timezone="UTC",
        local_start=SERIES_START,
    )
    with sessions.begin() as session:
        return str(series_service.create_series(session, new, now=NOW).id)


def _new_template(sessions: sessionmaker[Session], row: Row, name: str) -> str:
    new = template_store.NewTemplate(
        guild_id=int(people.GUILD_A),
        name=name,
        title=name,
        allowed_role_ids=[int(r) for r in row.template_roles],
    )
    with sessions.begin() as session:
        return str(template_store.create_template(session, new, now=NOW).id)


def _new_game(sessions: sessionmaker[Session], row: Row) -> tuple[str, str]:
    title = f"Secret raid {uuid.uuid4().hex[:8]}"
    if row.makes == "series":
        return _new_series(sessions, row, title), title
    if row.makes == "template":
        return _new_template(sessions, row, title), title
    new_game = service.NewGame(
        guild_id=int(people.GUILD_A),
        channel_id=int(people.CHANNEL_A),
        host_id=int(row.host),
        title=title,
        scheduled_at=START,
    )
    with sessions.begin() as session:
        game = service.create_game(session, new_game, now=NOW)
        for user_id in row.roster:
            service.join_game(session, game.id, int(user_id), now=NOW)
        return str(game.id), title


def _snapshot(sessions: sessionmaker[Session]) -> list[Any]:
    """Everything a request could change, to tell that a refused one changed nothing."""
    queries = [
        "SELECT id, title, status, updated_at FROM game_sessions ORDER BY id",
        "SELECT id, title, active, skipped_occurrences, updated_at FROM game_series ORDER BY id",
        "SELECT id, name, max_players, updated_at FROM game_templates ORDER BY id",
        "SELECT game_id, user_id FROM game_participants ORDER BY game_id, user_id",
        "SELECT guild_id, timezone, host_role_ids FROM guild_settings ORDER BY guild_id",
        "SELECT user_id, timezone, dm_reminders FROM user_settings ORDER BY user_id",
        "SELECT count(*) FROM event_outbox",
    ]
    with sessions() as session:
        return [list(session.execute(text(q))) for q in queries]


async def _sign_in(caller: str, client: httpx.AsyncClient, sandbox: SandboxHandle) -> None:
    if caller == "admin":
        client.headers["Authorization"] = f"Bearer {API_TOKEN}"
    elif caller != "signed_out":
        await people.log_in(client, sandbox, USER_OF[caller])


@pytest.mark.parametrize("caller", CALLERS)
async def test_authorization_matrix(
    caller: str,
    people_app: FastAPI,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
) -> None:
    column = CALLERS.index(caller)
    acting_user = USER_OF[caller]
    wrong: list[str] = []
    async with people.browser(people_app) as client:
        await _sign_in(caller, client, discord_sandbox)
        for row in TABLE:
            game_id, title = _new_game(session_factory, row)
            before = _snapshot(session_factory)
            body = row.body(acting_user) if row.body else None
            response = await client.request(row.method, row.path(game_id, acting_user), json=body)
            expected = row.expected[column]
            if response.status_code != expected:
                wrong.append(f"{row.name}: {response.status_code}, not {expected}: {response.text}")
            if response.status_code >= 400 and _snapshot(session_factory) != before:
                wrong.append(f"{row.name}: refused with {response.status_code}, yet changed data")
            # The 404 repeats the id the outsider sent, and nothing else of the game.
            if caller == "outsider" and (title in response.text or people.OWNER in response.text):
                wrong.append(f"{row.name}: server A's game leaked to the outsider")
            if row.name.startswith("list") and caller != "signed_out":
                ids = [item["id"] for item in response.json()["items"]]
                if (game_id in ids) != (caller != "outsider"):
                    wrong.append(f"{row.name}: the game is listed to outsiders or not to members")
    assert wrong == []
