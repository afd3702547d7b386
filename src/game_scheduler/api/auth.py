"""The first gate of `/api/v1`: a bearer token or a signed session cookie, before the body.

The check runs as ASGI middleware so an unauthenticated client learns nothing, not even
whether its body would have been valid. The token is compared in constant time and never
logged. A request without an Authorization header passes only with a `gs_session` cookie
whose signature is good; whether that session is still open, and what the person may do,
is the `CurrentCaller` dependency's job (api/identity.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi.security import HTTPBearer
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from game_scheduler.api.errors import error_response

PROTECTED_PREFIX = "/api/v1"
# Documents the scheme for /docs; `auto_error=False` because the middleware does the checking.
bearer_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API_TOKEN>`")


def token_matches(authorization: str | None, expected: str) -> bool:
    """True when an Authorization header carries exactly the expected bearer token."""
    if not authorization:
        return False
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), expected.encode())


class BearerAuthMiddleware:
    """Refuses `/api/v1` requests without the right bearer token with a 401."""

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        session_cookie_ok: Callable[[str], bool] = lambda cookie: False,
        cookie_name: str = "gs_session",
    ) -> None:
        if not token:
            raise ValueError("an empty API token would let anyone in")
        self._app = app
        self._token = token
        self._session_cookie_ok = session_cookie_ok
        self._cookie_name = cookie_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401 itself."""
        path: str = scope.get("path", "")
        protected = path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")
        if scope["type"] != "http" or not protected:
            await self._app(scope, receive, send)
            return
        authorization = None
        cookie_header = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookie_header = value.decode("latin-1")
        if token_matches(authorization, self._token):
            await self._app(scope, receive, send)
            return
        cookie = cookie_parser(cookie_header).get(self._cookie_name) if cookie_header else None
        if authorization is None and cookie is not None and self._session_cookie_ok(cookie):
            await self._app(scope, receive, send)
            return
        if authorization is None and cookie is not None:
            challenge = "Bearer"
            message = "your session cookie is not valid; log in again at /auth/login"
        elif authorization:
            challenge = 'Bearer error="invalid_token"'
            message = "the bearer token is wrong; use the API_TOKEN the server was started with"
        else:
            challenge = "Bearer"
            message = "log in at /auth/login, or send Authorization: Bearer <API_TOKEN>"
        response = error_response(
            401, "unauthorized", message, headers={"WWW-Authenticate": challenge}
        )
        await response(scope, receive, send)
