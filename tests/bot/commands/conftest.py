"""One running bot, sandbox, database and queue shared by every slash command test.

Starting a bot costs about a second; the command tests share one (package scope) and
keep out of each other's way with channels, users and titles of their own.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pika
import psycopg
import pytest
import pytest_asyncio
from aiohttp import web
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.bot import GameBot, build_bot
from game_scheduler.config import Settings
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.db.models import GameSession, GuildSettings
from game_scheduler.messaging.topology import Topology, declare_blocking
from game_scheduler.sandbox.app import create_app
from game_scheduler.testing import delete_topology, prefixed_topology
from tests.fixtures.database import ADMIN_URL, _drop, _url_for
from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client

GUILD_ID = 900_000_000_000_000_001  # the sandbox's own guild
HOST_ID = 700_000_000_000_000_001
SERVER_ZONE = "Europe/Berlin"
_numbers = itertools.count(1)


def fresh_id() -> int:
    """A snowflake no other test uses (for a channel or a user)."""
    return 800_000_000_000_000_000 + next(_numbers)


@dataclass
class World:
    """The shared bot and what it runs on."""

    sandbox: SandboxHandle
    sessions: sessionmaker[Session]
    bot: GameBot

    async def command(
        self, subcommand: str | None = None, *, name: str = "game", **kwargs: Any
    ) -> dict[str, Any]:
        """Type a command and return the sandbox's record of the answer."""
        result = await self.sandbox.command(name, subcommand, **kwargs)
        assert result["answered"], f"the bot did not answer: {result}"
        response: dict[str, Any] = result["response"]
        response["interaction_id"] = result["interaction_id"]
        return response

    def games(self, **where: Any) -> list[GameSession]:
        """The games in the database matching column values."""
        with self.sessions.begin() as session:
            query = select(GameSession)
            for column, value in where.items():
                query = query.where(getattr(GameSession, column) == value)
            games = list(session.scalars(query.order_by(GameSession.created_at)))
            session.expunge_all()
            return games

    def game_count(self) -> int:
        """How many games exist at all."""
        with self.sessions.begin() as session:
            return int(session.scalar(select(func.count()).select_from(GameSession)) or 0)


def seen(response: dict[str, Any]) -> str:
    """What the person sees of an answer: the last followup, else the response itself."""
    followups = response.get("followups") or []
    if followups:
        return str(followups[-1]["content"])
    return str(response.get("content") or "")


@pytest.fixture(scope="package")
def commands_database(template_database: str) -> Iterator[str]:
    """A migrated database of this package's own, the server's zone set to Berlin."""
    name = f"gs_test_cmd_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    yield _url_for(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        _drop(admin, name)


@pytest.fixture(scope="package")
def commands_topology(rabbitmq_vhost_url: str) -> Iterator[Topology]:
    """Queue names of this package's own."""
    topology = prefixed_topology(f"cmd-{uuid.uuid4().hex[:8]}.", delivery_limit=2)
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_vhost_url))
    try:
        declare_blocking(connection.channel(), topology)
    finally:
        connection.close()
    yield topology
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_vhost_url))
    try:
        delete_topology(connection.channel(), topology)
    finally:
        connection.close()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def world(
    commands_database: str, rabbitmq_vhost_url: str, commands_topology: Topology
) -> AsyncIterator[World]:
    """The sandbox and the real bot on it, logged in, commands registered."""
    engine = make_engine(commands_database)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(GuildSettings(guild_id=GUILD_ID, timezone=SERVER_ZONE))
    app = create_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    settings = Settings(
        database_url=commands_database,
        rabbitmq_url=rabbitmq_vhost_url,
        discord_api_base=f"{url}/api/v10",
    )
    try:
        async with aiohttp.ClientSession() as http:
            sandbox = SandboxHandle(url=url, api_base=f"{url}/api/v10", app=app, session=http)
            bot = build_bot(
                settings,
                sessions=sessions,
                topology=commands_topology,
                guild_ready_timeout=GUILD_READY_TIMEOUT,
            )
            async with connected_client(sandbox, bot):
                yield World(sandbox=sandbox, sessions=sessions, bot=bot)
                with contextlib.suppress(Exception):
                    await bot.refresher.wait_idle()
    finally:
        await runner.cleanup()
        engine.dispose()


@dataclass(frozen=True)
class Server:
    """A described server: an owner, a host role, a manager role and plain members."""

    guild_id: int
    channel_id: int
    owner_id: int
    host_role_id: int
    manager_id: int  # has Manage Events
    host_id: int  # has the host role
    plain_id: int  # has neither


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def server(world: World) -> Server:
    """A server of its own in the sandbox (and its settings in the database)."""
    ids = [fresh_id() for _ in range(8)]
    described = Server(
        guild_id=ids[0],
        channel_id=ids[1],
        owner_id=ids[2],
        host_role_id=ids[3],
        manager_id=ids[4],
        host_id=ids[5],
        plain_id=ids[6],
    )
    manager_role = ids[7]
    body = {
        "guild_id": str(described.guild_id),
        "name": "Board games",
        "owner_id": str(described.owner_id),
        "roles": [
            {"id": str(described.host_role_id), "name": "Host", "permissions": "0"},
            {"id": str(manager_role), "name": "Mod", "permissions": str(1 << 33)},
        ],
        "members": [
            {"user_id": str(described.owner_id), "username": "owner", "roles": []},
            {"user_id": str(described.manager_id), "username": "mod", "roles": [str(manager_role)]},
            {
                "user_id": str(described.host_id),
                "username": "host",
                "roles": [str(described.host_role_id)],
            },
            {"user_id": str(described.plain_id), "username": "plain", "roles": []},
        ],
        "channels": [{"id": str(described.channel_id), "name": "games"}],
    }
    async with world.sandbox.session.post(
        f"{world.sandbox.url}/sandbox/guilds", json=body
    ) as response:
        assert response.status == 201, await response.text()
    with world.sessions.begin() as session:
        session.add(
            GuildSettings(
                guild_id=described.guild_id,
                timezone="America/New_York",
                host_role_ids=[described.host_role_id],
            )
        )
    return described
