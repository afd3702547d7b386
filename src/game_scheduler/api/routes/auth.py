"""`/auth/login`, `/auth/callback`, `/auth/logout`: logging in with Discord and out again.

Login sends the browser to Discord's authorize page with a fresh `state` and PKCE
challenge; both are kept in a short-lived signed cookie (`gs_login`), never on the
server, and used once. The callback checks `state`, exchanges the code with the PKCE
verifier, opens a server-side session and sets `gs_session`. Logout ends the session in
the database, so its cookie opens nothing even if it was copied.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from game_scheduler.api.discord_login import LoginFailed, Person
from game_scheduler.api.errors import ApiError
from game_scheduler.api.identity import Identity, current_caller, get_identity
from game_scheduler.api.sessions import (
    COOKIE_NAME,
    LOGIN_COOKIE_NAME,
    LOGIN_LIFETIME,
    SESSION_LIFETIME,
    PendingLogin,
    as_utc,
    end_session,
    start_session,
)

# Browser redirects, not API calls: documented in docs/api.md, left out of OpenAPI.
router = APIRouter(prefix="/auth", tags=["login"], include_in_schema=False)

IdentityDep = Annotated[Identity, Depends(get_identity)]
AFTER_LOGIN = "/"


def _set_cookie(response: Response, identity: Identity, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        httponly=True,
        samesite="lax",
        secure=identity.secure_cookies,
        path="/",
    )


@router.get("/login", summary="Log in with Discord", status_code=302)
def login(identity: IdentityDep) -> Response:
    """Send the browser to Discord's authorize page (scopes `identify guilds`)."""
    if not identity.login.configured:
        raise ApiError(
            503,
            "login_not_configured",
            "login with Discord is not set up: set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET",
        )
    start = identity.login.start()
    response = RedirectResponse(start.url, status_code=302)
    pending = identity.signer.login_cookie(PendingLogin(start.state, start.code_verifier))
    age = int(LOGIN_LIFETIME.total_seconds())
    _set_cookie(response, identity, LOGIN_COOKIE_NAME, pending, age)
    return response


def _refuse(message: str) -> ApiError:
    return ApiError(400, "login_failed", message)


@router.get("/callback", summary="Discord sends the browser back here", status_code=302)
async def callback(
    request: Request,
    identity: IdentityDep,
    code: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Check `state`, trade the code for tokens (with PKCE), open a session, go to `/`."""
    pending = identity.signer.pending_login(request.cookies.get(LOGIN_COOKIE_NAME))
    if error is not None:
        raise _refuse("Discord did not approve the login; start again at /auth/login")
    if pending is None:
        raise _refuse("this login has expired or was already used; start again at /auth/login")
    if state is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise _refuse("the login's state does not match; start again at /auth/login")
    if not code:
        raise _refuse("Discord sent no login code; start again at /auth/login")
    try:
        person: Person = await run_in_threadpool(identity.login.finish, code, pending.code_verifier)
    except LoginFailed as exc:
        raise _refuse(str(exc)) from None
    now = identity.clock.now()
    with identity.session_factory.begin() as session:
        token, _ = start_session(
            session,
            user_id=person.user_id,
            username=person.username,
            guild_ids=list(person.guild_ids),
            access_token=person.tokens.access_token,
            refresh_token=person.tokens.refresh_token,
            access_token_expires_at=as_utc(person.tokens.expires_at),
            now=now,
        )
    response = RedirectResponse(AFTER_LOGIN, status_code=302)
    cookie = identity.signer.session_cookie(token)
    _set_cookie(response, identity, COOKIE_NAME, cookie, int(SESSION_LIFETIME.total_seconds()))
    # The state and verifier are spent: a replayed callback finds no pending login.
    response.delete_cookie(LOGIN_COOKIE_NAME, path="/")
    return response


@router.post(
    "/logout",
    summary="Log out",
    status_code=303,
    dependencies=[Depends(current_caller)],  # signed in, with the CSRF token
)
def logout(request: Request, identity: IdentityDep) -> Response:
    """End the session (its cookie opens nothing from now on) and go to `/`."""
    token = identity.signer.session_token(request.cookies.get(COOKIE_NAME))
    if token is not None:
        with identity.session_factory.begin() as session:
            end_session(session, token, now=identity.clock.now())
    response = RedirectResponse(AFTER_LOGIN, status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
