"""Discord's OAuth2, as the sandbox plays it: the authorize page, the token endpoint, and
`/users/@me` and `/users/@me/guilds` for a person's bearer token.

The authorize page lets a person pick who they are (every member of a configured server
is listed); `login_as=<user id>` approves at once, for tests. The built-in application is
`SANDBOX_CLIENT_ID` with `SANDBOX_CLIENT_SECRET` (config.py); any redirect URI is accepted.
"""

from __future__ import annotations

import base64
import binascii
import html
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from game_scheduler.config import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from game_scheduler.sandbox import payloads, servers
from game_scheduler.sandbox.errors import DiscordError
from game_scheduler.sandbox.http_layer import STATE_KEY
from game_scheduler.sandbox.oauth_grants import Grant, OAuthGrantError
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import SandboxState

routes = web.RouteTableDef()

SUPPORTED_SCOPES = frozenset({"identify", "guilds", "email", "guilds.members.read"})


def _person_grant(state: SandboxState, request: web.Request) -> Grant | None:
    """The person a `Bearer` token stands for; None for a bot token or none at all."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    grant = state.oauth.user_of(token.strip())
    if grant is None:
        raise DiscordError(401, 0)
    return grant


# the authorize page -----------------------------------------------------------------


def _authorize_error(message: str) -> web.Response:
    page = (
        "<!doctype html><title>Sandbox OAuth2</title><h1>Cannot authorize</h1>"
        f"<p>{html.escape(message)}</p>"
    )
    return web.Response(text=page, status=400, content_type="text/html")


def _chooser(state: SandboxState, request: web.Request) -> web.Response:
    people: dict[int, str] = {}
    for guild in state.guilds.values():
        for user_id, (username, _) in guild.members.items():
            people.setdefault(user_id, username)
    items = []
    for user_id, username in sorted(people.items(), key=lambda p: p[1]):
        query = urlencode({**request.query, "login_as": str(user_id)})
        items.append(
            f'<li><a href="/oauth2/authorize?{html.escape(query)}">Log in as '
            f"{html.escape(username)}</a> ({user_id})</li>"
        )
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in request.query.items()
        if k != "login_as"
    )
    listing = "".join(items) or "<li>No configured servers yet: POST /sandbox/guilds.</li>"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sandbox: log in</title></head>"
        "<body><h1>Discord sandbox: who are you?</h1>"
        "<p>A development stand-in for Discord's authorize page. Pick a person:</p>"
        f"<ul>{listing}</ul>"
        f'<form method="get" action="/oauth2/authorize">{hidden}'
        '<label>Or any user id <input name="login_as" inputmode="numeric"></label> '
        '<button type="submit">Authorize</button></form></body></html>'
    )
    return web.Response(text=page, content_type="text/html")


@routes.get("/oauth2/authorize")
async def authorize(request: web.Request) -> web.Response:
    """Ask who is logging in, or with `login_as` approve at once and redirect with a code."""
    state = request.app[STATE_KEY]
    query = request.query
    if query.get("client_id") != SANDBOX_CLIENT_ID:
        return _authorize_error(f"unknown client_id; the sandbox's app is {SANDBOX_CLIENT_ID}")
    if query.get("response_type") != "code":
        return _authorize_error("response_type must be code")
    redirect_uri = query.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _authorize_error("redirect_uri must be an http(s) URL")
    scopes = set(query.get("scope", "").split())
    if not scopes or not scopes <= SUPPORTED_SCOPES:
        return _authorize_error(f"scope must be some of {', '.join(sorted(SUPPORTED_SCOPES))}")
    challenge = query.get("code_challenge")
    if challenge is not None and query.get("code_challenge_method", "plain") != "S256":
        return _authorize_error("code_challenge_method must be S256")
    login_as = query.get("login_as", "").strip()
    if not login_as:
        return _chooser(state, request)
    if not login_as.isdigit() or not 0 < int(login_as) < 2**63:
        return _authorize_error("login_as must be a user id")
    user_id = int(login_as)
    state.user(user_id)
    code = state.oauth.issue_code(user_id, redirect_uri, " ".join(sorted(scopes)), challenge)
    back = {"code": code}
    if "state" in query:
        back["state"] = query["state"]
    separator = "&" if urlsplit(redirect_uri).query else "?"
    raise web.HTTPFound(f"{redirect_uri}{separator}{urlencode(back)}")


# the token endpoint -----------------------------------------------------------------


def _client_credentials(request: web.Request, form: dict[str, str]) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _token_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


@routes.post("/api/v10/oauth2/token")
async def token(request: web.Request) -> web.Response:
    """Exchange a code (with its PKCE verifier) or a refresh token for tokens."""
    state = request.app[STATE_KEY]
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    client_id, secret = _client_credentials(request, form)
    if client_id != SANDBOX_CLIENT_ID or secret != SANDBOX_CLIENT_SECRET:
        return _token_error(401, "invalid_client", "Unknown client or wrong client secret.")
    grant_type = form.get("grant_type")
    try:
        if grant_type == "authorization_code":
            grant = state.oauth.redeem_code(
                form.get("code", ""), form.get("redirect_uri"), form.get("code_verifier")
            )
        elif grant_type == "refresh_token":
            grant = state.oauth.refresh(form.get("refresh_token", ""))
        else:
            return _token_error(400, "unsupported_grant_type", "Unsupported grant type.")
    except OAuthGrantError as exc:
        return _token_error(400, exc.error, exc.description)
    return web.json_response(grant.token_response())


# the person's own user and guilds ---------------------------------------------------


@routes.get("/api/v10/users/@me")
async def get_current_user(request: web.Request) -> web.Response:
    """The person a bearer token belongs to; for a bot token, the sandbox bot user."""
    state = request.app[STATE_KEY]
    grant = _person_grant(state, request)
    if grant is None:
        return web.json_response(payloads.bot_user_payload())
    return web.json_response(state.user(grant.user_id))


@routes.get("/api/v10/users/@me/guilds")
async def get_current_user_guilds(request: web.Request) -> web.Response:
    """The servers of the person a bearer token belongs to, or the bot's servers."""
    state = request.app[STATE_KEY]
    grant = _person_grant(state, request)
    entries: list[JSON]
    if grant is None:
        entries = servers.guilds_of_bot(state)
    elif "guilds" not in grant.scope.split():
        raise DiscordError(403, 50001)
    else:
        entries = servers.guilds_of_user(state, grant.user_id)
    return web.json_response(entries)
