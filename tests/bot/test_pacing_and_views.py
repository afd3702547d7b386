"""Per-channel pacing, the buttons' custom_ids, and the bot process's clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import deque

import pytest

from game_scheduler.bot.metrics import BotMetrics, RateLimitCounter
from game_scheduler.bot.pacing import ChannelPacer
from game_scheduler.bot.views.game_view import (
    JOIN_TEMPLATE,
    LEAVE_TEMPLATE,
    Action,
    build_game_view,
    custom_id,
)
from tests.fixtures.sandbox import SandboxHandle


class FakeTime:
    """A monotonic clock moved by asyncio.sleep stand-ins."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_sixth_write_in_five_seconds_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        fake.now += seconds

    monkeypatch.setattr("game_scheduler.bot.pacing.asyncio.sleep", sleep)
    pacer = ChannelPacer(monotonic=fake)
    for _ in range(5):
        await pacer.acquire(1)
        fake.now += 0.5
    await pacer.acquire(2)  # another channel is not held up
    assert slept == []

    await pacer.acquire(1)

    assert slept == [pytest.approx(2.5)]  # until the first write leaves the 5 s window


def test_idle_channels_are_forgotten() -> None:
    fake = FakeTime()
    pacer = ChannelPacer(monotonic=fake)
    pacer._recent[1] = deque([0.0])
    fake.now = 10.0
    pacer.forget_idle()
    assert pacer._recent == {}


def test_custom_ids_carry_the_game_and_match_the_templates() -> None:
    game_id = uuid.uuid4()
    assert JOIN_TEMPLATE.fullmatch(custom_id(Action.JOIN, game_id))
    assert LEAVE_TEMPLATE.fullmatch(custom_id(Action.LEAVE, game_id))
    assert len(custom_id(Action.LEAVE, game_id)) <= 100

    closed = build_game_view(game_id, open_for_joining=False).to_components()

    row = closed[0]["components"]
    assert [b["custom_id"] for b in row] == [f"game:join:{game_id}", f"game:leave:{game_id}"]
    assert all(b["disabled"] for b in row)


def test_429_warnings_are_counted() -> None:
    metrics = BotMetrics.unregistered()
    record = logging.LogRecord(
        "discord.http", logging.WARNING, "", 0, "We are being rate limited. %s", ("x",), None
    )
    RateLimitCounter(metrics).handle(record)
    sample = metrics.registry.get_sample_value
    assert sample("game_scheduler_bot_discord_rate_limits_total", {"scope": "route"}) == 1


@pytest.mark.integration
async def test_the_bot_process_is_healthy_then_stops_cleanly_on_sigterm(
    discord_sandbox: SandboxHandle, database_url: str, rabbitmq_vhost_url: str
) -> None:
    port = 19_000 + os.getpid() % 1000
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_vhost_url,
        "DISCORD_API_BASE": discord_sandbox.api_base,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DISCORD_BOT_TOKEN", None)
    process = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "game_scheduler.bot.bot", "--metrics-port", str(port)],
        env=env,
    )
    try:
        deadline = time.monotonic() + 20

        def health() -> int:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return int(r.status)
            except OSError:
                return 0

        while await asyncio.to_thread(health) != 200:
            assert time.monotonic() < deadline, "the bot never became healthy"
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 20)
        assert code == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
