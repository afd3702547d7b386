"""The bot's command tree, and registering it with Discord only when it changed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import discord
from discord import app_commands
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.commands.calendar import calendar_command
from game_scheduler.bot.commands.games import CommandDeps, GameCommands, say
from game_scheduler.bot.commands.reminders import reminders_command
from game_scheduler.bot.commands.server import settings_command, timezone_command
from game_scheduler.clock import Clock

logger = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Something went wrong on my side, and nothing was changed. Try again soon."
# The parts of a command definition that people see; Discord adds ids and defaults.
_COMPARED = (
    "name",
    "description",
    "type",
    "required",
    "autocomplete",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
)


class GameCommandTree(app_commands.CommandTree[Any]):
    """The slash commands, with one answer for anything that fails unexpectedly."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Log the failure and tell the person, without details."""
        command = interaction.command.qualified_name if interaction.command else "?"
        logger.error(
            "slash command failed",
            exc_info=error,
            extra={"command": command, "guild_id": interaction.guild_id},
        )
        try:
            await say(interaction, SOMETHING_WENT_WRONG)
        except discord.HTTPException:
            logger.warning("could not tell the person that their command failed")


def build_command_tree(
    client: discord.Client,
    sessions: sessionmaker[Session],
    clock: Clock,
    on_game_changed: Callable[[uuid.UUID], None],
    *,
    public_url: str = "http://127.0.0.1:8000",
) -> GameCommandTree:
    """The tree with `/game`, `/timezone`, `/settings`, `/calendar` and `/reminders`."""
    deps = CommandDeps(sessions, clock, on_game_changed, public_url=public_url.rstrip("/"))
    tree = GameCommandTree(client)
    commands = (
        GameCommands(deps),
        timezone_command(deps),
        settings_command(deps),
        calendar_command(deps),
        reminders_command(deps),
    )
    for command in commands:
        # Servers only: in a DM there are no roles, no server zone and no channel to post in.
        command.guild_only = True
        command.allowed_contexts = app_commands.AppCommandContext(guild=True)
        tree.add_command(command)
    return tree


def _shape(definition: dict[str, Any]) -> dict[str, Any]:
    """What Discord would show of a command or option, defaults filled in."""
    shape = {key: definition.get(key) for key in _COMPARED}
    shape["type"] = shape["type"] or 1
    shape["required"] = bool(shape["required"])
    shape["autocomplete"] = bool(shape["autocomplete"])
    shape["choices"] = [(c["name"], c["value"]) for c in definition.get("choices") or []]
    shape["channel_types"] = sorted(definition.get("channel_types") or [])
    shape["options"] = [_shape(o) for o in definition.get("options") or []]
    shape["guild_only"] = definition.get("contexts") in ([0], None) and not definition.get(
        "dm_permission", False
    )
    return shape


def _same(current: Sequence[dict[str, Any]], wanted: Sequence[dict[str, Any]]) -> bool:
    by_name = {c["name"]: _shape(c) for c in current}
    return len(current) == len(wanted) and all(by_name.get(w["name"]) == _shape(w) for w in wanted)


async def register_commands(tree: GameCommandTree, guild_ids: Sequence[int] = ()) -> list[str]:
    """Register the commands globally, or in each of `guild_ids`, where they differ.

    Asking first and writing only a change keeps restarts from using up Discord's daily
    limit on command writes; a second start with the same commands writes nothing.
    Returns the scopes that were written ("global" or a guild id).
    """
    client = tree.client
    application_id = client.application_id
    if application_id is None:
        raise app_commands.MissingApplicationID
    written: list[str] = []
    scopes: list[discord.Object | None] = [discord.Object(g) for g in guild_ids] or [None]
    for scope in scopes:
        if scope is not None:
            tree.copy_global_to(guild=scope)
        wanted = [c.to_dict(tree) for c in tree.get_commands(guild=scope)]
        if scope is None:
            current = await client.http.get_global_commands(application_id)
        else:
            current = await client.http.get_guild_commands(application_id, scope.id)
        if _same([dict(c) for c in current], wanted):
            continue
        await tree.sync(guild=scope)
        written.append("global" if scope is None else str(scope.id))
    if written:
        logger.info("slash commands registered", extra={"scopes": written})
    return written
