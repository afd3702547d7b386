"""`/reminders off|on`: whether the bot DMs me reminders, check-ins and join confirmations.

Changes to a seat someone else made (a promotion, a move, a cancellation, a removal) are
still told: they are news, not reminders (docs/decisions.md).
"""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands

from game_scheduler.bot.commands.games import CommandDeps, say
from game_scheduler.games.settings import update_user_settings


def reminders_command(deps: CommandDeps) -> app_commands.Command[Any, Any, None]:
    """`/reminders setting:<off|on>`, the same switch as the dashboard's."""

    @app_commands.command(name="reminders", description="Turn reminder DMs off or on")
    @app_commands.describe(setting="off: no reminders, check-ins or join DMs; on: all of them")
    async def reminders(
        interaction: discord.Interaction[Any], setting: Literal["off", "on"]
    ) -> None:
        wanted = setting == "on"
        user_id = interaction.user.id
        await deps.run(
            lambda session: update_user_settings(
                session, user_id, {"dm_reminders": wanted}, now=deps.clock.now()
            )
        )
        if wanted:
            await say(interaction, "Reminders are on: I will DM you before your games.")
        else:
            await say(
                interaction,
                "Reminders are off: no reminders, check-ins or join confirmations by DM."
                " I still tell you when a game you joined moves, is cancelled, or gives you"
                " a seat. `/reminders on` turns them back on.",
            )

    return reminders
