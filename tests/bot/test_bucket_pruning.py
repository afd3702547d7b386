"""discord.py's rate-limit buckets: pruned once a minute, not walked on every new bucket."""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest
from discord.http import HTTPClient

from game_scheduler.bot.bucket_pruning import prune_buckets_at_most_every


async def test_new_buckets_do_not_walk_the_others_until_a_minute_has_passed() -> None:
    loop = asyncio.get_running_loop()
    http = HTTPClient(loop)
    now = [0.0]
    assert prune_buckets_at_most_every(http, 60, monotonic=lambda: now[0])
    for i in range(300):  # long idle buckets, as discord.py would prune them
        http.get_ratelimit(f"idle:{i}")._last_request = loop.time() - 400

    for i in range(1000):
        http.get_ratelimit(f"new:{i}")
    assert len(http._buckets) == 1300  # no walk yet: all kept

    now[0] = 61.0
    http.get_ratelimit("one more")
    assert len(http._buckets) == 1001  # one walk dropped the idle ones
    await http.close()


def test_a_discord_py_without_the_method_keeps_its_own_way(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert not prune_buckets_at_most_every(object())
    assert f"discord.py {discord.__version__} has no" in caplog.text
