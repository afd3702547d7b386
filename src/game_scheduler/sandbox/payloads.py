"""Discord JSON shapes (users, channels, guilds, messages) as REST and the Gateway send them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

# Discord gives a bot's user and its application the same id; the sandbox does too.
BOT_USER_ID = 1
APPLICATION_ID = 1
BOT_USERNAME = "Game Scheduler Sandbox"
# Every channel the sandbox invents lives in this one guild.
DEFAULT_GUILD_ID = 900_000_000_000_000_001
DEFAULT_GUILD_NAME = "Sandbox Guild"

GUILD_TEXT = 0
DM = 1
EPHEMERAL_FLAG = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
# All permission bits Discord defines today, as the decimal string Discord sends.
ALL_PERMISSIONS = str((1 << 51) - 1)
# What @everyone may do in a server nobody described: everything but Administrator, which
# would make Discord ignore channel overwrites (and so `/sandbox/bot-permissions`).
EVERYONE_PERMISSIONS = str(((1 << 51) - 1) & ~(1 << 3))
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # bytes


def now_iso() -> str:
    """Return the current UTC time as Discord's ISO 8601 timestamp."""
    return datetime.now(tz=UTC).isoformat()


def user_payload(user_id: int, *, bot: bool = False, username: str | None = None) -> JSON:
    """Build a Discord user object."""
    name = username or f"user{user_id}"
    return {
        "id": str(user_id),
        "username": name,
        "global_name": None if bot else name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def bot_user_payload() -> JSON:
    """Build the sandbox bot's own user object (GET /users/@me)."""
    data = user_payload(BOT_USER_ID, bot=True, username=BOT_USERNAME)
    data.update({"verified": True, "mfa_enabled": False, "locale": "en-US"})
    return data


def application_payload() -> JSON:
    """Build the application object discord.py's login() reads."""
    return {
        "id": str(APPLICATION_ID),
        "name": BOT_USERNAME,
        "description": "Local Discord stand-in for development",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user_payload(2, username="sandbox-owner"),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "bot": bot_user_payload(),
        "interactions_endpoint_url": None,
        "redirect_uris": [],
    }


def guild_channel_payload(channel_id: int, guild_id: int, position: int) -> JSON:
    """Build a guild text channel object."""
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "guild_id": str(guild_id),
        "name": f"channel-{channel_id}",
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def dm_channel_payload(channel_id: int, recipient: JSON) -> JSON:
    """Build a DM channel object."""
    return {
        "id": str(channel_id),
        "type": DM,
        "last_message_id": None,
        "recipients": [recipient],
        "flags": 0,
    }


def member_payload(user: JSON) -> JSON:
    """Build a guild member object wrapping a user."""
    return {
        "user": user,
        "roles": [],
        "nick": None,
        "joined_at": "2015-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": ALL_PERMISSIONS,
    }


def guild_payload(guild_id: int, channels: list[JSON]) -> JSON:
    """Build a full GUILD_CREATE guild with its channels and the bot as a member."""
    return {
        "id": str(guild_id),
        "name": DEFAULT_GUILD_NAME if guild_id == DEFAULT_GUILD_ID else f"guild-{guild_id}",
        "icon": None,
        "owner_id": "2",
        "unavailable": False,
        "large": False,
        "member_count": 1,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "features": [],
        # Discord's @everyone role has the guild's id; the sandbox grants it all but admin.
        "roles": [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "permissions": EVERYONE_PERMISSIONS,
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "channels": channels,
        "threads": [],
        "members": [member_payload(bot_user_payload())],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "joined_at": "2015-01-01T00:00:00+00:00",
    }


def message_payload(message_id: int, channel_id: int, author: JSON) -> JSON:
    """Build an empty message object to be filled from a request body."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": "",
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }


def apply_message_body(message: JSON, body: JSON) -> None:
    """Copy the fields of a create or edit body onto a message, as Discord stores them."""
    if "content" in body:
        message["content"] = body["content"] or ""
    if "embeds" in body:
        message["embeds"] = [{"type": "rich", **embed} for embed in body["embeds"] or []]
    if "embed" in body and body["embed"] is not None:
        message["embeds"] = [{"type": "rich", **body["embed"]}]
    if "components" in body:
        message["components"] = body["components"] or []
    if "flags" in body and body["flags"] is not None:
        message["flags"] = int(body["flags"])
