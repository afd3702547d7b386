"""The page as a person sees it: headless Chromium renders it to a PNG."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord

from tests.fixtures.browser import CHROMIUM_ARGS
from tests.fixtures.sandbox import SandboxHandle


async def test_headless_chromium_renders_the_page(
    discord_client: discord.Client,
    discord_sandbox: SandboxHandle,
    tmp_path: Path,
    chromium_path: str,
) -> None:
    channel = await discord_client.fetch_channel(777_777_777_777_777_777)
    assert isinstance(channel, discord.TextChannel)
    await channel.send(embed=discord.Embed(title="Screenshot night", description="x" * 300))
    shot = tmp_path / "page.png"
    process = await asyncio.create_subprocess_exec(
        chromium_path,
        *CHROMIUM_ARGS,
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1000,800",
        f"--screenshot={shot}",
        discord_sandbox.url + "/",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000  # a blank page compresses to far less than a rendered one
