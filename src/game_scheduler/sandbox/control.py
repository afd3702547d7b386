"""The sandbox's own control API: /sandbox/state, /click, /faults, /limits and /reset."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from game_scheduler.sandbox.errors import DiscordError
from game_scheduler.sandbox.faults import InvalidFaultError, parse_fault
from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY
from game_scheduler.sandbox.interactions import ClickError, press_button
from game_scheduler.sandbox.state import InteractionRecord

routes = web.RouteTableDef()

CLICK_WAIT_DEFAULT = 3.0  # seconds the click endpoint waits for the bot's answer
CLICK_WAIT_MAX = 30.0  # seconds


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _wait_seconds(wait: Any) -> float:
    """Read "wait": true means the default, a number means that many seconds (capped)."""
    if wait is True:
        return CLICK_WAIT_DEFAULT
    if wait is False or wait is None:
        return 0.0
    try:
        return max(0.0, min(float(wait), CLICK_WAIT_MAX))
    except (TypeError, ValueError):
        return CLICK_WAIT_DEFAULT


@routes.get("/sandbox/state")
async def get_state(request: web.Request) -> web.Response:
    """Return every channel's and DM's messages, the recorded interactions and armed faults."""
    return web.json_response(request.app[STATE_KEY].snapshot())


@routes.post("/sandbox/click")
async def click(request: web.Request) -> web.Response:
    """Press a button as a user; optionally wait for what the bot answers."""
    body = await _body(request)
    try:
        message_id = int(body["message_id"])
        custom_id = str(body["custom_id"])
        user_id = int(body["user_id"])
    except (KeyError, TypeError, ValueError):
        return _problem(400, "message_id, custom_id and user_id are required")
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        record, delivered = await press_button(state, hub, message_id, custom_id, user_id)
    except DiscordError:
        return _problem(404, f"no message {message_id}")
    except ClickError as exc:
        return _problem(400, str(exc))
    return await _answer(record, delivered, _wait_seconds(body.get("wait", False)))


async def _answer(record: InteractionRecord, delivered: int, wait_seconds: float) -> web.Response:
    """Wait up to `wait_seconds` for the bot's answer, then say what it was."""
    if wait_seconds > 0 and delivered:
        # On a timeout the caller sees "answered": false and decides what that means.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(record.answered.wait(), wait_seconds)
    return web.json_response(
        {
            "interaction_id": str(record.id),
            "delivered": delivered,
            "answered": record.answered.is_set(),
            "response": record.snapshot(),
        }
    )


@routes.post("/sandbox/faults")
async def add_fault(request: web.Request) -> web.Response:
    """Arm a fault: the next `count` calls matching `route` answer with `status`."""
    try:
        fault = parse_fault(await _body(request))
    except InvalidFaultError as exc:
        return _problem(400, str(exc))
    request.app[STATE_KEY].faults.add(fault)
    return web.json_response(fault.describe(), status=201)


@routes.get("/sandbox/faults")
async def list_faults(request: web.Request) -> web.Response:
    """Return the faults still armed."""
    return web.json_response(request.app[STATE_KEY].faults.describe())


@routes.delete("/sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    """Disarm every fault."""
    request.app[STATE_KEY].faults.clear()
    return web.Response(status=204)


@routes.get("/sandbox/limits")
async def get_limits(request: web.Request) -> web.Response:
    """Return the global limit and the 429s answered so far."""
    return web.json_response(request.app[STATE_KEY].rate_limiter.snapshot())


@routes.post("/sandbox/limits")
async def set_limits(request: web.Request) -> web.Response:
    """Change the global limit: `{"global_per_s": 50}` (0 turns it off)."""
    body = await _body(request)
    value = body.get("global_per_s")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return _problem(400, "global_per_s must be a whole number of requests, 0 or more")
    limiter = request.app[STATE_KEY].rate_limiter
    limiter.global_limit.configure(value)
    return web.json_response(limiter.snapshot())


@routes.post("/sandbox/reset")
async def reset(request: web.Request) -> web.Response:
    """Forget messages, channels, users, faults, rate limits and interactions."""
    request.app[STATE_KEY].reset()
    request.app[HUB_KEY].reset()
    return web.Response(status=204)
