"""The application commands the bot registered, globally or per guild, checked as Discord does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.errors import invalid_form_body
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.snowflakes import SnowflakeGenerator

CHAT_INPUT = 1
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
COMMANDS_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25
NAME = re.compile(r"^[-_\w]{1,32}$")
DESCRIPTION_MAX = 100

Errors = dict[str, Any]


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _name_errors(thing: JSON) -> Errors:
    errors: Errors = {}
    name = str(thing.get("name") or "")
    if not NAME.match(name) or name != name.lower():
        errors["name"] = _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    description = thing.get("description")
    if thing.get("type", CHAT_INPUT) == CHAT_INPUT and not 1 <= len(description or "") <= 100:
        errors["description"] = _error(
            "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {DESCRIPTION_MAX} in length."
        )
    return errors


def _options_errors(options: list[JSON]) -> Errors:
    if len(options) > OPTIONS_MAX:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {OPTIONS_MAX} or fewer in length.")
    errors: Errors = {}
    seen_optional = False
    for index, option in enumerate(options):
        one = _name_errors(option)
        kind = option.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            nested = _options_errors(option.get("options") or [])
            if nested:
                one["options"] = nested
        else:
            if option.get("required"):
                if seen_optional:
                    one["required"] = _error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > CHOICES_MAX:
                one["choices"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if one:
            errors[str(index)] = one
    return errors


def validate_commands(body: Any) -> list[JSON]:
    """Raise Discord's 400 for a bulk overwrite body it would refuse; return the commands."""
    if not isinstance(body, list):
        raise invalid_form_body(_error("LIST_TYPE_CONVERT", "Only iterables may be used"))
    if len(body) > COMMANDS_MAX:
        raise invalid_form_body(_error("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
    errors: Errors = {}
    names: set[tuple[str, int]] = set()
    for index, command in enumerate(body):
        if not isinstance(command, dict):
            errors[str(index)] = _error("DICT_TYPE_CONVERT", "Only dictionaries may be used")
            continue
        one = _name_errors(command)
        options = _options_errors(command.get("options") or [])
        if options:
            one["options"] = options
        key = (str(command.get("name")), int(command.get("type") or CHAT_INPUT))
        if key in names:
            one["name"] = _error("APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate command name")
        names.add(key)
        if one:
            errors[str(index)] = one
    if errors:
        raise invalid_form_body(errors)
    return body


@dataclass
class CommandRegistry:
    """The application's commands: global ones under None, guild ones under the guild id."""

    snowflakes: SnowflakeGenerator
    commands: dict[int | None, list[JSON]] = field(default_factory=dict)
    overwrites: int = 0  # how many bulk overwrites were received, to see idempotent syncs

    def overwrite(self, guild_id: int | None, body: list[JSON]) -> list[JSON]:
        """Replace a scope's commands as a bulk PUT does; a kept name keeps its id."""
        earlier = {(c["name"], c["type"]): c for c in self.commands.get(guild_id, [])}
        stored = []
        for command in body:
            kind = int(command.get("type") or CHAT_INPUT)
            previous = earlier.get((command["name"], kind))
            data: JSON = {
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": previous["id"] if previous else str(self.snowflakes.next()),
                "application_id": str(payloads.APPLICATION_ID),
                "type": kind,
                "version": str(self.snowflakes.next()),
            }
            if guild_id is not None:
                data["guild_id"] = str(guild_id)
            stored.append(data)
        self.commands[guild_id] = stored
        self.overwrites += 1
        return stored

    def listed(self, guild_id: int | None) -> list[JSON]:
        """A scope's commands, as GET returns them."""
        return list(self.commands.get(guild_id, []))

    def find(self, guild_id: int | None, name: str) -> JSON | None:
        """The chat command a user in this guild would see under this name (guild first)."""
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []) if scope in self.commands else []:
                if command["name"] == name and command["type"] == CHAT_INPUT:
                    return command
            if scope is None:
                break
        return None

    def clear(self) -> None:
        """Forget every command."""
        self.commands.clear()
        self.overwrites = 0

    def snapshot(self) -> JSON:
        """The registered commands by scope, as /sandbox/state shows them."""
        return {
            "global": [c["name"] for c in self.commands.get(None, [])],
            "guilds": {str(g): [c["name"] for c in cs] for g, cs in self.commands.items() if g},
            "overwrites": self.overwrites,
        }
