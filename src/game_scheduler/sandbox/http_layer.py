"""What every /api/v10 call goes through: auth, faults, rate limits, Discord error bodies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from game_scheduler.sandbox.errors import DiscordError, error_message
from game_scheduler.sandbox.faults import DEFAULT_RETRY_AFTER, Fault
from game_scheduler.sandbox.gateway import GatewayHub
from game_scheduler.sandbox.ratelimits import (
    Bucket,
    retry_after_header,
    too_many_requests_body,
)
from game_scheduler.sandbox.state import SandboxState

API_PREFIX = "/api/v10"
STATE_KEY = web.AppKey("sandbox_state", SandboxState)
HUB_KEY = web.AppKey("sandbox_gateway_hub", GatewayHub)

# Routes Discord serves without a bot token: the gateway URL, interaction webhooks
# that are authorised by the token in their path, and the OAuth2 token endpoint (the
# client authenticates in the form or with Basic auth).
_PUBLIC_PREFIXES = ("/gateway", "/interactions/", "/webhooks/", "/oauth2/token")
# Discord's global limit does not bind interaction endpoints (the callback and the
# interaction webhooks); the others here carry no bot token.
_OUTSIDE_GLOBAL_LIMIT = _PUBLIC_PREFIXES
_MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token")
# discord.py only honours a 429 that passed through Discord's proxy, which it recognises
# by the Via header; Discord's edge sends it on every response.
_VIA = "1.1 google"


async def read_json(request: web.Request) -> dict[str, Any]:
    """Return a request's JSON body, also from a multipart payload_json part."""
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        text = raw if isinstance(raw, str) else "{}"
    else:
        text = await request.text() or "{}"
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiscordError(
            400, 50035, {"_errors": [{"code": "JSON", "message": str(exc)}]}
        ) from exc
    if not isinstance(body, dict):
        raise DiscordError(400, 50035, {"_errors": [{"code": "DICT_TYPE_CONVERT"}]})
    return body


def snowflake(request: web.Request, name: str, unknown_code: int) -> int:
    """Return a path parameter as a snowflake, or answer Discord's Unknown-thing 404."""
    try:
        value = int(request.match_info[name])
    except (KeyError, ValueError) as exc:
        raise DiscordError(404, unknown_code) from exc
    if value <= 0:
        raise DiscordError(404, unknown_code)
    return value


def _route_and_major(request: web.Request) -> tuple[str, str]:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    info = request.match_info
    aliases = {"interaction_id": "webhook_id", "interaction_token": "webhook_token"}
    values = {aliases.get(k, k): v for k, v in info.items()}
    major = "+".join(values[k] for k in _MAJOR_PARAMETERS if k in values)
    return f"{request.method} {template}", major


def _error_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


def _fault_response(fault: Fault) -> web.Response:
    if fault.status == 429:
        retry_after = fault.retry_after if fault.retry_after is not None else DEFAULT_RETRY_AFTER
        response = _error_response(429, too_many_requests_body(retry_after))
        response.headers["Retry-After"] = retry_after_header(retry_after)
        response.headers["X-RateLimit-Scope"] = "shared"
        return response
    return _error_response(fault.status, DiscordError(fault.status, fault.error_code()).body())


def _globally_limited_response(retry_after: float) -> web.Response:
    response = _error_response(429, too_many_requests_body(retry_after, is_global=True))
    response.headers["Retry-After"] = retry_after_header(retry_after)
    response.headers["X-RateLimit-Global"] = "true"
    response.headers["X-RateLimit-Scope"] = "global"
    return response


def _rate_limited_response(state: SandboxState, bucket: Bucket, retry_after: float) -> web.Response:
    response = _error_response(429, too_many_requests_body(retry_after))
    response.headers.update(state.rate_limiter.headers(bucket))
    response.headers["Retry-After"] = retry_after_header(retry_after)
    response.headers["X-RateLimit-Scope"] = "user"
    return response


@web.middleware
async def discord_api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer /api/v10 calls as Discord would, around the route handlers."""
    if not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    state = request.app[STATE_KEY]
    relative = request.path[len(API_PREFIX) :]
    route, major = _route_and_major(request)
    bucket = state.rate_limiter.bucket(route, major)
    response: web.StreamResponse
    if not relative.startswith(_PUBLIC_PREFIXES) and not request.headers.get("Authorization"):
        response = _error_response(401, {"message": error_message(401, 0), "code": 0})
    elif (fault := state.faults.take(request.method, relative)) is not None:
        response = _fault_response(fault)
    elif (
        not relative.startswith(_OUTSIDE_GLOBAL_LIMIT)
        and (retry_after := state.rate_limiter.global_limit.try_acquire()) is not None
    ):
        return _with_via(_globally_limited_response(retry_after))
    elif (retry_after := state.rate_limiter.acquire(bucket)) is not None:
        return _with_via(_rate_limited_response(state, bucket, retry_after))
    else:
        response = await _call(request, handler)
    if response.status != 429:
        response.headers.update(state.rate_limiter.headers(bucket))
    return _with_via(response)


async def _call(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DiscordError as exc:
        return _error_response(exc.status, exc.body())
    except web.HTTPException as exc:
        # No such route (or method): Discord answers these with a JSON body too.
        if exc.status >= 400:
            return _error_response(exc.status, {"message": error_message(exc.status, 0), "code": 0})
        raise


def _with_via(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Via"] = _VIA
    # discord.py parses a body as JSON only when the content type is exactly this, with no
    # charset parameter, as Discord sends it.
    if response.headers.get("Content-Type", "").startswith("application/json"):
        response.headers["Content-Type"] = "application/json"
    return response
