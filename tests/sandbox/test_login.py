"""discord.py logs in to the sandbox and sees its guild."""

from __future__ import annotations

import discord

from game_scheduler.sandbox import payloads


async def test_login_gives_ready_with_the_sandbox_guild(discord_client: discord.Client) -> None:
    assert discord_client.is_ready()
    assert discord_client.user is not None
    assert discord_client.user.id == payloads.BOT_USER_ID
    assert discord_client.user.bot
    assert discord_client.application_id == payloads.APPLICATION_ID
    guild = discord_client.get_guild(payloads.DEFAULT_GUILD_ID)
    assert guild is not None
    assert guild.name == payloads.DEFAULT_GUILD_NAME
    assert guild.me is not None
