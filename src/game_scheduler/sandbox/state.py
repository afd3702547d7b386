"""Everything the sandbox remembers: users, channels, messages and interactions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.app_commands import CommandRegistry
from game_scheduler.sandbox.errors import DiscordError
from game_scheduler.sandbox.faults import FaultTable
from game_scheduler.sandbox.guilds import ADMINISTRATOR, SandboxGuild, guild_create_payload
from game_scheduler.sandbox.oauth_grants import OAuthStore
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.ratelimits import RateLimiter
from game_scheduler.sandbox.scheduled_event_store import ScheduledEventStore
from game_scheduler.sandbox.snowflakes import SnowflakeGenerator


@dataclass
class StoredMessage:
    """A message as Discord would return it, and how often it was edited."""

    data: JSON
    edits: int = 0

    def snapshot(self) -> JSON:
        """Return the message as /sandbox/state shows it."""
        return {**self.data, "edits": self.edits}


@dataclass
class Channel:
    """A guild text channel or a DM channel and its messages, oldest first."""

    id: int
    type: int
    guild_id: int | None = None
    recipient_id: int | None = None
    position: int = 0
    name: str | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    bot_denied: int = 0  # permission bits the bot lacks here (a member overwrite on the bot)


@dataclass
class InteractionRecord:
    """An interaction sent to the bot (a press, a command, a modal), and what the bot answered."""

    id: int
    token: str
    custom_id: str
    user_id: int
    channel_id: int
    message_id: int | None  # the message a component was on; None for commands
    kind: int = 3  # Discord's interaction type: 2 command, 3 component, 4 autocomplete, 5 modal
    command: str | None = None  # "game create" for a command or its autocomplete
    response_type: int | None = None
    response: JSON | None = None  # the message the bot answered with (type 4) or updated (7)
    modal: JSON | None = None  # the modal the bot opened (type 9)
    choices: list[JSON] | None = None  # the autocomplete result (type 8)
    ephemeral: bool = False
    followups: list[JSON] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def snapshot(self) -> JSON:
        """Return what the user was told, as /sandbox/state and /sandbox/click show it."""
        response = self.response or {}
        return {
            "id": str(self.id),
            "kind": self.kind,
            "command": self.command,
            "custom_id": self.custom_id,
            "user_id": str(self.user_id),
            "channel_id": str(self.channel_id),
            "message_id": None if self.message_id is None else str(self.message_id),
            "type": self.response_type,
            "modal": self.modal,
            "choices": self.choices,
            "content": response.get("content"),
            "embeds": response.get("embeds", []),
            "components": response.get("components", []),
            "ephemeral": self.ephemeral,
            "followups": [
                {
                    "id": f["id"],
                    "content": f.get("content"),
                    "embeds": f.get("embeds", []),
                    "components": f.get("components", []),
                    "ephemeral": bool(f.get("flags", 0) & payloads.EPHEMERAL_FLAG),
                }
                for f in self.followups
            ],
        }


class SandboxState:
    """The sandbox's memory; every REST handler and the Gateway work on one instance."""

    def __init__(self) -> None:
        self.snowflakes = SnowflakeGenerator()
        self.rate_limiter = RateLimiter()
        self.faults = FaultTable()
        self.users: dict[int, JSON] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channel_by_user: dict[int, int] = {}
        self.message_channel: dict[int, int] = {}
        # Ephemeral replies: seen by one user only, never in a channel, but their buttons work.
        self.ephemeral: dict[int, tuple[int, StoredMessage]] = {}
        self.guilds: dict[int, SandboxGuild] = {}
        self.oauth = OAuthStore()  # the codes and tokens people were given
        self.interactions: dict[int, InteractionRecord] = {}
        # The application's commands outlive a reset, as the bot's login does: a bot
        # registers them once at startup.
        self.app_commands = CommandRegistry(self.snowflakes)
        # (channel id, nonce) -> message id, for sends with enforce_nonce, as Discord keeps.
        self.nonces: dict[tuple[int, str], int] = {}
        self.scheduled_events = ScheduledEventStore(self.snowflakes)

    def reset(self) -> None:
        """Forget messages, channels, users, faults, rate limits and interactions."""
        self.rate_limiter.reset()
        self.faults.clear()
        self.users.clear()
        self.channels.clear()
        self.dm_channel_by_user.clear()
        self.message_channel.clear()
        self.ephemeral.clear()
        self.guilds.clear()
        self.oauth = OAuthStore()
        self.interactions.clear()
        self.nonces.clear()
        self.scheduled_events.reset()

    # users and channels -------------------------------------------------------------

    def user(self, user_id: int) -> JSON:
        """Return a user, inventing it on first use."""
        if user_id == payloads.BOT_USER_ID:
            return payloads.bot_user_payload()
        if user_id not in self.users:
            self.users[user_id] = payloads.user_payload(user_id)
        return self.users[user_id]

    def channel(self, channel_id: int, guild_id: int | None = None) -> tuple[Channel, bool]:
        """Return a channel and whether it was just made; unknown ids become guild channels.

        A new channel joins `guild_id`, or the sandbox guild when none is given.
        """
        found = self.channels.get(channel_id)
        if found is not None:
            return found, False
        guild_channels = [c for c in self.channels.values() if c.guild_id is not None]
        made = Channel(
            id=channel_id,
            type=payloads.GUILD_TEXT,
            guild_id=guild_id or payloads.DEFAULT_GUILD_ID,
            position=len(guild_channels),
        )
        self.channels[channel_id] = made
        return made, True

    def add_guild(self, guild: SandboxGuild) -> JSON:
        """Create or replace a described guild and its channels; return its GUILD_CREATE."""
        self.guilds[guild.id] = guild
        users: dict[int, JSON] = {}
        for user_id, (username, _) in guild.members.items():
            user = self.user(user_id)
            user["username"] = user["global_name"] = username
            users[user_id] = user
        for position, (channel_id, name) in enumerate(guild.channels):
            channel, _ = self.channel(channel_id, guild.id)
            channel.guild_id, channel.name, channel.position = guild.id, name, position
        return guild_create_payload(guild, self.guild_channels(guild.id), users)

    def guild_create(self, guild_id: int) -> JSON:
        """The GUILD_CREATE payload of any guild, described or not."""
        guild = self.guilds.get(guild_id)
        if guild is None:
            return payloads.guild_payload(guild_id, self.guild_channels(guild_id))
        users = {user_id: self.user(user_id) for user_id in guild.members}
        return guild_create_payload(guild, self.guild_channels(guild_id), users)

    def member(self, guild_id: int, user_id: int) -> JSON:
        """A user as a member of a guild: a described guild's roles, else every permission."""
        guild = self.guilds.get(guild_id)
        if guild is None:
            return payloads.member_payload(self.user(user_id))
        return guild.member_payload(self.user(user_id))

    def open_dm(self, user_id: int) -> Channel:
        """Return the DM channel with a user, opening it on first use."""
        self.user(user_id)
        channel_id = self.dm_channel_by_user.get(user_id)
        if channel_id is None:
            channel_id = self.snowflakes.next()
            self.channels[channel_id] = Channel(
                id=channel_id, type=payloads.DM, recipient_id=user_id
            )
            self.dm_channel_by_user[user_id] = channel_id
        return self.channels[channel_id]

    def bot_permissions(self, channel: Channel) -> int:
        """The bot's permission bits in a channel, as Discord computes them.

        The server's @everyone (the bot has no roles of its own here), then the overwrite
        `/sandbox/bot-permissions` put on the bot in this channel.
        """
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        if guild is not None:
            base = guild.permissions_of(payloads.BOT_USER_ID)
        else:
            base = int(payloads.EVERYONE_PERMISSIONS)
        if base & ADMINISTRATOR:
            return int(payloads.ALL_PERMISSIONS)
        return base & ~channel.bot_denied

    def channel_payload(self, channel: Channel) -> JSON:
        """Return a channel as Discord's REST API shows it."""
        if channel.recipient_id is not None:
            data = payloads.dm_channel_payload(channel.id, self.user(channel.recipient_id))
        else:
            guild_id = channel.guild_id or payloads.DEFAULT_GUILD_ID
            data = payloads.guild_channel_payload(channel.id, guild_id, channel.position)
            if channel.name:
                data["name"] = channel.name
            if channel.bot_denied:
                overwrite = {"id": str(payloads.BOT_USER_ID), "type": 1, "allow": "0"}
                data["permission_overwrites"] = [{**overwrite, "deny": str(channel.bot_denied)}]
        if channel.messages:
            data["last_message_id"] = str(next(reversed(channel.messages)))
        return data

    def guild_channels(self, guild_id: int) -> list[JSON]:
        """Return the channels of a guild as Discord shows them."""
        return [self.channel_payload(c) for c in self.channels.values() if c.guild_id == guild_id]

    # messages -----------------------------------------------------------------------

    def message_for_nonce(self, channel: Channel, body: JSON) -> JSON | None:
        """The message an earlier send with the same enforced nonce created, if it exists.

        Discord answers a repeated send carrying `enforce_nonce` with the first message
        instead of posting twice; a bot relies on this to make a retried DM harmless.
        """
        if not body.get("enforce_nonce") or body.get("nonce") is None:
            return None
        message_id = self.nonces.get((channel.id, str(body["nonce"])))
        stored = channel.messages.get(message_id) if message_id is not None else None
        return stored.data if stored is not None else None

    def create_message(self, channel: Channel, body: JSON, author: JSON | None = None) -> JSON:
        """Store a new message from a validated create body and return it."""
        message_id = self.snowflakes.next()
        data = payloads.message_payload(
            message_id, channel.id, author or payloads.bot_user_payload()
        )
        payloads.apply_message_body(data, body)
        channel.messages[message_id] = StoredMessage(data)
        self.message_channel[message_id] = channel.id
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            self.nonces[(channel.id, str(body["nonce"]))] = message_id
        return data

    def get_message(self, channel: Channel, message_id: int) -> StoredMessage:
        """Return a stored message or raise Discord's Unknown Message."""
        found = channel.messages.get(message_id)
        if found is None:
            raise DiscordError(404, 10008)
        return found

    def edit_message(self, stored: StoredMessage, body: JSON) -> JSON:
        """Apply a validated edit body to a message and return it."""
        payloads.apply_message_body(stored.data, body)
        stored.data["edited_timestamp"] = payloads.now_iso()
        stored.edits += 1
        return stored.data

    def delete_message(self, channel: Channel, message_id: int) -> None:
        """Delete a message or raise Discord's Unknown Message."""
        if channel.messages.pop(message_id, None) is None:
            raise DiscordError(404, 10008)
        self.message_channel.pop(message_id, None)

    def add_ephemeral(self, channel: Channel, data: JSON) -> None:
        """Remember an ephemeral reply so that its buttons can be pressed and it edited."""
        self.ephemeral[int(data["id"])] = (channel.id, StoredMessage(data))

    def find_message(self, message_id: int) -> tuple[Channel, StoredMessage]:
        """Find a message in any channel (or an ephemeral reply) by its id alone."""
        if message_id in self.ephemeral:
            reply_channel, stored = self.ephemeral[message_id]
            return self.channels[reply_channel], stored
        channel_id = self.message_channel.get(message_id)
        channel = self.channels.get(channel_id) if channel_id is not None else None
        if channel is None or message_id not in channel.messages:
            raise DiscordError(404, 10008)
        return channel, channel.messages[message_id]

    # the control API ----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Return GET /sandbox/state: channels, DMs and interactions with their content."""
        channels: dict[str, list[JSON]] = {}
        dms: dict[str, list[JSON]] = {}
        for channel in self.channels.values():
            messages = [m.snapshot() for m in channel.messages.values()]
            if channel.recipient_id is not None:
                dms[str(channel.recipient_id)] = messages
            else:
                channels[str(channel.id)] = messages
        return {
            "guild_id": str(payloads.DEFAULT_GUILD_ID),
            "bot_user_id": str(payloads.BOT_USER_ID),
            "channels": channels,
            "dms": dms,
            "interactions": {str(i): r.snapshot() for i, r in self.interactions.items()},
            "commands": self.app_commands.snapshot(),
            "faults": self.faults.describe(),
            "limits": self.rate_limiter.snapshot(),
            "scheduled_events": self.scheduled_events.snapshot(),
        }
