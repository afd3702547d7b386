"""Slash commands: `/game create|list|mine|edit|cancel`, `/timezone`, `/settings`, `/calendar`."""

from game_scheduler.bot.commands.tree import GameCommandTree, build_command_tree, register_commands

__all__ = ["GameCommandTree", "build_command_tree", "register_commands"]
