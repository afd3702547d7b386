"""Discord REST API v10 routes the bot and discord.py use: users, channels, messages, gateway.

`/users/@me` lives in oauth.py, as it answers people's OAuth2 tokens too.
"""

from __future__ import annotations

from aiohttp import web

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.errors import DiscordError, invalid_form_body
from game_scheduler.sandbox.gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    GatewayHub,
    gateway_url,
)
from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY, read_json, snowflake
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import Channel, SandboxState
from game_scheduler.sandbox.validation import validate_message_body

routes = web.RouteTableDef()
MESSAGES_PAGE_MAX = 100


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE_KEY]


def _hub(request: web.Request) -> GatewayHub:
    return request.app[HUB_KEY]


async def _channel(request: web.Request) -> Channel:
    """Return the channel in the path, inventing (and announcing) it on first use."""
    channel_id = snowflake(request, "channel_id", 10003)
    channel, created = _state(request).channel(channel_id)
    if created:
        await _hub(request).dispatch(
            "CHANNEL_CREATE", _state(request).channel_payload(channel), intent=INTENT_GUILDS
        )
    return channel


def _event_data(channel: Channel, data: JSON) -> tuple[JSON, int]:
    """Return a message event's payload (guild_id added, as the Gateway has it) and intent."""
    if channel.guild_id is None:
        return data, INTENT_DIRECT_MESSAGES
    return {**data, "guild_id": str(channel.guild_id)}, INTENT_GUILD_MESSAGES


# login and gateway ------------------------------------------------------------------


@routes.get("/api/v10/oauth2/applications/@me")
@routes.get("/api/v10/applications/@me")
async def get_application(request: web.Request) -> web.Response:
    """Return the bot's application, which login() and Client.start() read."""
    return web.json_response(payloads.application_payload())


@routes.get("/api/v10/gateway")
async def get_gateway(request: web.Request) -> web.Response:
    """Return the websocket URL of the sandbox Gateway."""
    return web.json_response({"url": gateway_url(request)})


@routes.get("/api/v10/gateway/bot")
async def get_gateway_bot(request: web.Request) -> web.Response:
    """Return the Gateway URL with shard advice and session start limits."""
    limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
    return web.json_response(
        {"url": gateway_url(request), "shards": 1, "session_start_limit": limit}
    )


# users and DMs ----------------------------------------------------------------------


@routes.post("/api/v10/users/@me/channels")
async def open_dm(request: web.Request) -> web.Response:
    """Open (or return) the DM channel with a user."""
    body = await read_json(request)
    try:
        user_id = int(body["recipient_id"])
    except (KeyError, TypeError, ValueError) as exc:
        required = {
            "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
        }
        raise invalid_form_body({"recipient_id": required}) from exc
    channel = _state(request).open_dm(user_id)
    return web.json_response(_state(request).channel_payload(channel))


@routes.get("/api/v10/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    """Return any user; unknown ids are invented on first use."""
    user_id = snowflake(request, "user_id", 10013)
    return web.json_response(_state(request).user(user_id))


# guilds -----------------------------------------------------------------------------


@routes.get("/api/v10/guilds/{guild_id}")
async def get_guild(request: web.Request) -> web.Response:
    """Return a guild with its channels; a described one with its name, owner and roles."""
    guild_id = snowflake(request, "guild_id", 10004)
    return web.json_response(_state(request).guild_create(guild_id))


@routes.get("/api/v10/guilds/{guild_id}/channels")
async def get_guild_channels(request: web.Request) -> web.Response:
    """Return a guild's channels."""
    guild_id = snowflake(request, "guild_id", 10004)
    return web.json_response(_state(request).guild_channels(guild_id))


@routes.get("/api/v10/guilds/{guild_id}/members/{user_id}")
async def get_member(request: web.Request) -> web.Response:
    """Return a member: of a described guild only its members, else any user."""
    guild_id = snowflake(request, "guild_id", 10004)
    user_id = snowflake(request, "user_id", 10013)
    guild = _state(request).guilds.get(guild_id)
    if guild is not None and user_id not in guild.members and user_id != payloads.BOT_USER_ID:
        raise DiscordError(404, 10007)
    return web.json_response(_state(request).member(guild_id, user_id))


# channels and messages --------------------------------------------------------------


@routes.get("/api/v10/channels/{channel_id}")
async def get_channel(request: web.Request) -> web.Response:
    """Return a channel; unknown ids become text channels of the sandbox guild.

    As Discord: a bot denied View Channel there gets 403 Missing Access, not the channel.
    """
    channel = await _channel(request)
    if channel.bot_denied & payloads.VIEW_CHANNEL:
        raise DiscordError(403, 50001)
    return web.json_response(_state(request).channel_payload(channel))


@routes.post("/api/v10/channels/{channel_id}/typing")
async def trigger_typing(request: web.Request) -> web.Response:
    """Accept a typing indicator and do nothing with it."""
    await _channel(request)
    return web.Response(status=204)


@routes.post("/api/v10/channels/{channel_id}/messages")
async def create_message(request: web.Request) -> web.Response:
    """Validate and store a new message, then dispatch MESSAGE_CREATE."""
    channel = await _channel(request)
    needed = payloads.VIEW_CHANNEL | payloads.SEND_MESSAGES
    if channel.guild_id is not None and _state(request).bot_permissions(channel) & needed != needed:
        raise DiscordError(403, 50013)
    body = await read_json(request)
    validate_message_body(body, creating=True)
    earlier = _state(request).message_for_nonce(channel, body)
    if earlier is not None:
        return web.json_response(earlier)
    data = _state(request).create_message(channel, body)
    event, intent = _event_data(channel, data)
    await _hub(request).dispatch("MESSAGE_CREATE", event, intent=intent)
    return web.json_response(data)


@routes.get("/api/v10/channels/{channel_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    """Return a channel's messages, newest first, as Discord pages them."""
    channel = await _channel(request)
    try:
        limit = min(int(request.query.get("limit", "50")), MESSAGES_PAGE_MAX)
        before = int(request.query.get("before", "0")) or None
        after = int(request.query.get("after", "0"))
    except ValueError:
        limit, before, after = 50, None, 0
    newest_first = [
        m.data
        for mid, m in reversed(channel.messages.items())
        if (before is None or mid < before) and mid > after
    ]
    return web.json_response(newest_first[:limit])


@routes.get("/api/v10/channels/{channel_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    """Return one message, or 404 Unknown Message."""
    channel = await _channel(request)
    message_id = snowflake(request, "message_id", 10008)
    return web.json_response(_state(request).get_message(channel, message_id).data)


@routes.patch("/api/v10/channels/{channel_id}/messages/{message_id}")
async def edit_message(request: web.Request) -> web.Response:
    """Validate and apply an edit, count it, then dispatch MESSAGE_UPDATE."""
    channel = await _channel(request)
    message_id = snowflake(request, "message_id", 10008)
    stored = _state(request).get_message(channel, message_id)
    body = await read_json(request)
    validate_message_body(body, creating=False)
    data = _state(request).edit_message(stored, body)
    event, intent = _event_data(channel, data)
    await _hub(request).dispatch("MESSAGE_UPDATE", event, intent=intent)
    return web.json_response(data)


@routes.delete("/api/v10/channels/{channel_id}/messages/{message_id}")
async def delete_message(request: web.Request) -> web.Response:
    """Delete a message, then dispatch MESSAGE_DELETE."""
    channel = await _channel(request)
    message_id = snowflake(request, "message_id", 10008)
    _state(request).delete_message(channel, message_id)
    event, intent = _event_data(channel, {"id": str(message_id), "channel_id": str(channel.id)})
    await _hub(request).dispatch("MESSAGE_DELETE", event, intent=intent)
    return web.Response(status=204)
