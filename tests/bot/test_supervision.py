"""A bot that cannot do its work says so at once and keeps saying it; a dead task ends it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.bot import GameBot, build_bot, run_bot
from game_scheduler.config import Settings
from game_scheduler.observability import MetricsServer
from tests.fixtures.rabbitmq import vhost_url
from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client

pytestmark = pytest.mark.integration


def _healthz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _bot(sandbox: SandboxHandle, sessions: sessionmaker[Session], rabbitmq_url: str) -> GameBot:
    settings = Settings(rabbitmq_url=rabbitmq_url, discord_api_base=sandbox.api_base)
    return build_bot(settings, sessions=sessions, guild_ready_timeout=GUILD_READY_TIMEOUT)


async def test_a_bot_that_cannot_log_in_to_the_broker_fails_its_health_check_and_keeps_saying_so(
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bot = _bot(discord_sandbox, session_factory, vhost_url("gs-no-such-vhost"))
    server = MetricsServer(0, bot.heartbeat, registry=CollectorRegistry()).start()
    try:
        async with connected_client(discord_sandbox, bot):
            deadline = time.monotonic() + 10
            while caplog.text.count("cannot reach the broker; retrying") < 2:
                assert time.monotonic() < deadline, caplog.text[-2000:]
                await asyncio.sleep(0.1)
            status, body = await asyncio.to_thread(_healthz, server.port)
            assert status == 503
            assert any("cannot reach the broker" in str(p) for p in body["problems"])  # type: ignore[attr-defined]
            assert not bot.is_healthy()
            assert "guest:guest" not in caplog.text  # the password is never logged
    finally:
        server.stop()


async def test_a_bot_that_consumes_is_healthy(
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    rabbitmq_vhost_url: str,
) -> None:
    bot = _bot(discord_sandbox, session_factory, rabbitmq_vhost_url)
    server = MetricsServer(0, bot.heartbeat, registry=CollectorRegistry()).start()
    try:
        async with connected_client(discord_sandbox, bot):
            await asyncio.wait_for(bot.consumer.wait_consuming(), 10)
            status, body = await asyncio.to_thread(_healthz, server.port)
            assert (status, body["problems"]) == (200, [])
    finally:
        server.stop()


async def test_a_background_task_that_dies_stops_the_bot_with_exit_code_1(
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    rabbitmq_vhost_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = _bot(discord_sandbox, session_factory, rabbitmq_vhost_url)

    async def breaks_after_start() -> None:
        await bot.consumer.wait_consuming()
        raise RuntimeError("the refresher lost its mind")

    original_setup = bot.setup_hook

    async def setup_hook() -> None:
        await original_setup()
        bot._supervise(breaks_after_start(), "bot-test-task")

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    code = await asyncio.wait_for(run_bot(bot, "sandbox-token"), 20)
    assert code == 1
    assert "background task ended; stopping the bot" in caplog.text
    assert "the refresher lost its mind" in caplog.text
