"""What described servers (`POST /sandbox/guilds`, guilds.py) answer besides interactions:
their roles, the servers of a person or of the bot (`/users/@me/guilds`), and a listing.

A server nobody described keeps the sandbox's generous behaviour: anyone is a member with
every permission (rest.py's member lookup), so earlier tests and the bot work unchanged.
"""

from __future__ import annotations

from aiohttp import web

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.guilds import SandboxGuild
from game_scheduler.sandbox.http_layer import STATE_KEY, snowflake
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import SandboxState

routes = web.RouteTableDef()


def _partial(guild_id: int, name: str, owner: bool, permissions: str) -> JSON:
    """One entry of `GET /users/@me/guilds`, as Discord lists it."""
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "banner": None,
        "owner": owner,
        "permissions": permissions,
        "features": [],
    }


def guilds_of_user(state: SandboxState, user_id: int) -> list[JSON]:
    """The described servers a person is a member of, with their permissions in each."""
    return [
        _partial(g.id, g.name, user_id == g.owner_id, str(g.permissions_of(user_id)))
        for g in state.guilds.values()
        if user_id in g.members or user_id == g.owner_id
    ]


def guilds_of_bot(state: SandboxState) -> list[JSON]:
    """The servers the bot is in: the sandbox guild and every described one."""
    everything = payloads.ALL_PERMISSIONS
    entries = {
        payloads.DEFAULT_GUILD_ID: _partial(
            payloads.DEFAULT_GUILD_ID, payloads.DEFAULT_GUILD_NAME, False, everything
        )
    }
    for guild in state.guilds.values():
        entries[guild.id] = _partial(guild.id, guild.name, False, everything)
    return list(entries.values())


def _described(guild: SandboxGuild, state: SandboxState) -> JSON:
    return {
        "guild_id": str(guild.id),
        "name": guild.name,
        "owner_id": str(guild.owner_id),
        "roles": list(guild.roles.values()),
        "members": [
            {"user_id": str(u), "username": name, "roles": [str(r) for r in roles]}
            for u, (name, roles) in guild.members.items()
        ],
        "channels": [{"id": str(c), "name": n} for c, n in guild.channels],
    }


@routes.get("/sandbox/guilds")
async def list_described_guilds(request: web.Request) -> web.Response:
    """Every described server with its roles, members and channels."""
    state = request.app[STATE_KEY]
    return web.json_response([_described(g, state) for g in state.guilds.values()])


@routes.get("/api/v10/guilds/{guild_id}/roles")
async def get_roles(request: web.Request) -> web.Response:
    """A guild's roles (a described guild's own, else the sandbox's @everyone)."""
    guild_id = snowflake(request, "guild_id", 10004)
    roles: list[JSON] = request.app[STATE_KEY].guild_create(guild_id)["roles"]
    return web.json_response(roles)
