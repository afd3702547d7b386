"""Servers a test describes (`POST /sandbox/guilds`): owner, roles, members and channels.

Interactions carry a member's roles and permissions from here, so the bot's rules can be
tried with owners, managers and plain members. A guild nobody described keeps the
sandbox's old behaviour: everyone may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.errors import SandboxError
from game_scheduler.sandbox.payloads import JSON

ADMINISTRATOR = 1 << 3
# What @everyone may do when a description does not say: see, write, read and use commands.
DEFAULT_EVERYONE = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)


class GuildError(SandboxError):
    """A guild description that cannot be used."""


@dataclass
class SandboxGuild:
    """A described server."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, JSON] = field(default_factory=dict)  # role id -> Discord role object
    members: dict[int, tuple[str, list[int]]] = field(default_factory=dict)  # user -> (name, roles)
    channels: list[tuple[int, str]] = field(default_factory=list)

    def permissions_of(self, user_id: int) -> int:
        """A member's guild-wide permission bits, as Discord computes them."""
        everything = int(payloads.ALL_PERMISSIONS)
        if user_id == self.owner_id:
            return everything
        bits = int(self.roles[self.id]["permissions"])
        for role_id in self.members.get(user_id, ("", []))[1]:
            role = self.roles.get(role_id)
            if role is not None:
                bits |= int(role["permissions"])
        return everything if bits & ADMINISTRATOR else bits

    def member_payload(self, user: JSON) -> JSON:
        """The member object of a user in this guild (no roles if not a member)."""
        user_id = int(user["id"])
        _, role_ids = self.members.get(user_id, ("", []))
        data = payloads.member_payload(user)
        data["roles"] = [str(r) for r in role_ids]
        data["permissions"] = str(self.permissions_of(user_id))
        return data


def _int(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise GuildError(f"{what} must be a Discord id") from None
    if number <= 0:
        raise GuildError(f"{what} must be a Discord id")
    return number


def _role(data: Any, position: int) -> JSON:
    if not isinstance(data, dict):
        raise GuildError("each role is an object with id, name and permissions")
    role_id = _int(data.get("id"), "a role's id")
    try:
        permissions = int(str(data.get("permissions", "0")))
    except ValueError:
        raise GuildError("a role's permissions are a decimal bit-set") from None
    return {
        "id": str(role_id),
        "name": str(data.get("name") or f"role-{role_id}"),
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def parse_guild(body: JSON) -> SandboxGuild:
    """A guild from its description, or GuildError saying what is wrong."""
    guild_id = _int(body.get("guild_id"), "guild_id")
    guild = SandboxGuild(
        id=guild_id,
        name=str(body.get("name") or f"guild-{guild_id}"),
        owner_id=_int(body.get("owner_id"), "owner_id"),
    )
    for position, role in enumerate(body.get("roles") or [], start=1):
        parsed = _role(role, position)
        guild.roles[int(parsed["id"])] = parsed
    if guild_id in guild.roles:
        guild.roles[guild_id].update(name="@everyone", position=0)
    else:
        guild.roles[guild_id] = _role(
            {"id": guild_id, "name": "@everyone", "permissions": DEFAULT_EVERYONE}, 0
        )
    for member in body.get("members") or []:
        if not isinstance(member, dict):
            raise GuildError("each member is an object with user_id, username and roles")
        user_id = _int(member.get("user_id"), "a member's user_id")
        role_ids = [_int(r, "a member's role") for r in member.get("roles") or []]
        unknown = [r for r in role_ids if r not in guild.roles]
        if unknown:
            raise GuildError(f"member {user_id} has roles the guild lacks: {unknown}")
        guild.members[user_id] = (str(member.get("username") or f"user{user_id}"), role_ids)
    for channel in body.get("channels") or []:
        if not isinstance(channel, dict):
            raise GuildError("each channel is an object with id and name")
        channel_id = _int(channel.get("id"), "a channel's id")
        guild.channels.append((channel_id, str(channel.get("name") or f"channel-{channel_id}")))
    return guild


def guild_create_payload(guild: SandboxGuild, channels: list[JSON], users: dict[int, JSON]) -> JSON:
    """The GUILD_CREATE of a described guild: its roles, members and channels."""
    data = payloads.guild_payload(guild.id, channels)
    data["name"] = guild.name
    data["owner_id"] = str(guild.owner_id)
    data["roles"] = list(guild.roles.values())
    bot = payloads.member_payload(payloads.bot_user_payload())
    members = [guild.member_payload(users[user_id]) for user_id in guild.members]
    data["members"] = [bot, *members]
    data["member_count"] = len(data["members"])
    return data
