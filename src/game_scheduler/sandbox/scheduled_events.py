"""Discord's guild scheduled event routes: list, create, get, modify and delete.

Under `/api/v10/guilds/{guild_id}/scheduled-events`; the rules live in
`scheduled_event_store.py`. Each change is announced on the Gateway as Discord does.
"""

from __future__ import annotations

from aiohttp import web

from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY, read_json, snowflake
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.scheduled_event_store import UNKNOWN_EVENT, ScheduledEventStore

routes = web.RouteTableDef()
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16


def _store(request: web.Request) -> ScheduledEventStore:
    return request.app[STATE_KEY].scheduled_events


async def _announce(request: web.Request, event: str, data: JSON) -> None:
    await request.app[HUB_KEY].dispatch(event, data, intent=INTENT_GUILD_SCHEDULED_EVENTS)


_BASE = "/api/v10/guilds/{guild_id}/scheduled-events"


@routes.get(_BASE)
async def list_scheduled_events(request: web.Request) -> web.Response:
    """The server's events that have not ended."""
    guild_id = snowflake(request, "guild_id", 10004)
    return web.json_response(_store(request).listed(guild_id))


@routes.post(_BASE)
async def create_scheduled_event(request: web.Request) -> web.Response:
    """Validate and create an event, then dispatch GUILD_SCHEDULED_EVENT_CREATE."""
    guild_id = snowflake(request, "guild_id", 10004)
    data = _store(request).create(guild_id, await read_json(request))
    await _announce(request, "GUILD_SCHEDULED_EVENT_CREATE", data)
    return web.json_response(data)


@routes.get(_BASE + "/{event_id}")
async def get_scheduled_event(request: web.Request) -> web.Response:
    """One event, finished or not."""
    guild_id = snowflake(request, "guild_id", 10004)
    event_id = snowflake(request, "event_id", UNKNOWN_EVENT)
    return web.json_response(_store(request).get(guild_id, event_id).data)


@routes.patch(_BASE + "/{event_id}")
async def modify_scheduled_event(request: web.Request) -> web.Response:
    """Validate and apply a change, then dispatch GUILD_SCHEDULED_EVENT_UPDATE."""
    guild_id = snowflake(request, "guild_id", 10004)
    event_id = snowflake(request, "event_id", UNKNOWN_EVENT)
    data = _store(request).modify(guild_id, event_id, await read_json(request))
    await _announce(request, "GUILD_SCHEDULED_EVENT_UPDATE", data)
    return web.json_response(data)


@routes.delete(_BASE + "/{event_id}")
async def delete_scheduled_event(request: web.Request) -> web.Response:
    """Delete an event, then dispatch GUILD_SCHEDULED_EVENT_DELETE."""
    guild_id = snowflake(request, "guild_id", 10004)
    event_id = snowflake(request, "event_id", UNKNOWN_EVENT)
    data = _store(request).get(guild_id, event_id).data
    _store(request).delete(guild_id, event_id)
    await _announce(request, "GUILD_SCHEDULED_EVENT_DELETE", data)
    return web.Response(status=204)
