"""Keeps web pages from pressing the sandbox's buttons through a developer's browser.

Every state-changing `/sandbox/...` request must be `Content-Type: application/json`
(which a page on another site cannot send without a CORS preflight the sandbox never
approves) and, when the browser says where it comes from (`Origin`), come from the
sandbox's own page. Scripts and tests send no `Origin` and are unaffected.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

CONTROL_PREFIX = "/sandbox/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


@web.middleware
async def control_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a control request from a foreign origin (403) or not in JSON (415)."""
    if request.method in _SAFE_METHODS or not request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    origin = request.headers.get("Origin")
    if origin is not None and origin != _own_origin(request):
        return web.json_response(
            {"error": f"requests from {origin} may not control the sandbox; only its own page"},
            status=403,
        )
    if request.content_type != "application/json":
        return web.json_response(
            {"error": "control requests must be sent as Content-Type: application/json"},
            status=415,
        )
    return await handler(request)
