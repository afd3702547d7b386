"""Refuses JSON bodies nested deeper than any request of ours needs, with its own message.

Python's JSON parser gives up on deep nesting with a RecursionError, which FastAPI turns
into the same 400 as a body that is not UTF-8. This middleware looks first: a body nested
more than MAX_JSON_DEPTH levels is answered with a 422 that says so, before any parsing.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from game_scheduler.api.errors import error_response
from game_scheduler.api.schemas import FieldErrorOut

MAX_JSON_DEPTH = 32  # levels of arrays and objects; our deepest body has 2
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_METHODS_WITH_BODIES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings ignored)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class JsonDepthMiddleware:
    """Reads a request's body once, refuses it if nested too deep, and replays it otherwise."""

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self._app = app
        self._max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body intact, or answer 422 itself."""
        if (
            scope["type"] != "http"
            or scope.get("method") not in _METHODS_WITH_BODIES
            or not _is_json(scope)
        ):
            await self._app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before its body came
                await self._app(scope, _replay(message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth(body) > self._max_depth:
            text = (
                "the body is not valid JSON for this API:"
                f" it is nested more than {self._max_depth} levels deep"
            )
            response = error_response(
                422, "invalid_field", text, errors=[FieldErrorOut(field=None, message=text)]
            )
            await response(scope, receive, send)
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self._app(scope, _replay(whole, receive), send)


def _is_json(scope: Scope) -> bool:
    """True when the body is read as JSON: said so, or (as FastAPI does) said nothing."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


def _replay(first: Message, receive: Receive) -> Receive:
    """A receive that gives `first` once, then whatever the server says next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replayed
