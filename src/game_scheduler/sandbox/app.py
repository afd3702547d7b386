"""The sandbox's aiohttp application: state, Gateway hub, REST, control API and page."""

from __future__ import annotations

from aiohttp import web

from game_scheduler.sandbox import (
    commands,
    control,
    interactions,
    oauth,
    page,
    rest,
    scheduled_events,
    servers,
)
from game_scheduler.sandbox.control_guard import control_guard_middleware
from game_scheduler.sandbox.demo_server import demo_server
from game_scheduler.sandbox.gateway import HEARTBEAT_INTERVAL_MS, GatewayHub
from game_scheduler.sandbox.guilds import parse_guild
from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY, discord_api_middleware
from game_scheduler.sandbox.state import SandboxState


async def _close_gateway(app: web.Application) -> None:
    # Open websockets would otherwise hold the server's shutdown until they time out.
    await app[HUB_KEY].close_all()


def create_app(
    *, heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS, seed_demo: bool = False
) -> web.Application:
    """Build a fresh sandbox (with the demo server if asked); nothing is bound or started here.

    `heartbeat_interval_ms` is what HELLO asks of clients (tests shorten it).
    """
    app = web.Application(middlewares=[control_guard_middleware, discord_api_middleware])
    state = SandboxState()
    if seed_demo:
        state.add_guild(parse_guild(demo_server()))
    hub = GatewayHub(state, heartbeat_interval_ms=heartbeat_interval_ms)
    app[STATE_KEY] = state
    app[HUB_KEY] = hub
    app.router.add_routes(rest.routes)
    app.router.add_routes(servers.routes)
    app.router.add_routes(oauth.routes)
    app.router.add_routes(interactions.routes)
    app.router.add_routes(scheduled_events.routes)
    app.router.add_routes(control.routes)
    app.router.add_routes(commands.routes)
    app.router.add_routes(page.routes)
    # discord.py appends its query to DEFAULT_GATEWAY as given, with or without a slash.
    app.router.add_get("/gateway", hub.handle)
    app.router.add_get("/gateway/", hub.handle)
    app.on_shutdown.append(_close_gateway)
    return app
