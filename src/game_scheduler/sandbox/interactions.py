"""Button interactions: a press becomes INTERACTION_CREATE; callbacks and followups are recorded."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.errors import DiscordError, SandboxError, invalid_form_body
from game_scheduler.sandbox.gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES, GatewayHub
from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY, read_json
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import Channel, InteractionRecord, SandboxState
from game_scheduler.sandbox.validation import validate_message_body

routes = web.RouteTableDef()

APPLICATION_COMMAND, COMPONENT_INTERACTION, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
# What Discord lets a bot answer each kind of interaction with.
ALLOWED_RESPONSES = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, MODAL},
    COMPONENT_INTERACTION: {
        CHANNEL_MESSAGE,
        DEFERRED_MESSAGE,
        DEFERRED_UPDATE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}
CHOICES_MAX = 25
LOADING_FLAG = 1 << 7
MESSAGE_COMPONENT_TYPES = frozenset({2, 3, 5, 6, 7, 8})


class ClickError(SandboxError):
    """A button press the sandbox cannot deliver (no such button, or it is disabled)."""


def _find_component(message: JSON, custom_id: str) -> JSON:
    for row in message.get("components") or []:
        for component in row.get("components") or []:
            if component.get("custom_id") == custom_id:
                if component.get("disabled"):
                    raise ClickError(f"component {custom_id!r} is disabled")
                return dict(component)
    raise ClickError(f"message {message['id']} has no component with custom_id {custom_id!r}")


def member_data(state: SandboxState, guild_id: int, user_id: int) -> JSON:
    """The member object an interaction carries for a user in a guild."""
    return state.member(guild_id, user_id)


def interaction_payload(
    state: SandboxState, record: InteractionRecord, channel: Channel, data: JSON
) -> JSON:
    """An INTERACTION_CREATE payload for a record, in its channel, with the member's data."""
    user = state.user(record.user_id)
    payload: JSON = {
        "id": str(record.id),
        "application_id": str(payloads.APPLICATION_ID),
        "type": record.kind,
        "data": data,
        "channel_id": str(channel.id),
        "channel": state.channel_payload(channel),
        "token": record.token,
        "version": 1,
        "app_permissions": str(state.bot_permissions(channel)),
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": payloads.ATTACHMENT_SIZE_LIMIT,
    }
    if channel.guild_id is not None:
        payload.update(
            guild_id=str(channel.guild_id),
            guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
            guild_locale="en-US",
            member=member_data(state, channel.guild_id, record.user_id),
            authorizing_integration_owners={"0": str(channel.guild_id)},
            context=0,
        )
    else:
        payload.update(
            user=user, authorizing_integration_owners={"1": str(record.user_id)}, context=1
        )
    return payload


def _component_payload(
    state: SandboxState, record: InteractionRecord, channel: Channel, message: JSON, kind: int
) -> JSON:
    data: JSON = {"custom_id": record.custom_id, "component_type": kind}
    if kind != 2:
        data["values"] = []
    payload = interaction_payload(state, record, channel, data)
    payload["message"] = message
    return payload


def new_record(
    state: SandboxState,
    channel: Channel,
    user_id: int,
    kind: int,
    *,
    command: str | None = None,
    custom_id: str = "",
    message_id: int | None = None,
) -> InteractionRecord:
    """A new interaction from `user_id` in `channel`, kept so the bot's answer finds it."""
    record = InteractionRecord(
        id=state.snowflakes.next(),
        token=secrets.token_urlsafe(48),
        custom_id=custom_id,
        user_id=user_id,
        channel_id=channel.id,
        message_id=message_id,
        kind=kind,
        command=command,
    )
    state.interactions[record.id] = record
    return record


async def press_button(
    state: SandboxState, hub: GatewayHub, message_id: int, custom_id: str, user_id: int
) -> tuple[InteractionRecord, int]:
    """Deliver a button press to every bot session; return the record and sessions reached."""
    channel, stored = state.find_message(message_id)
    component = _find_component(stored.data, custom_id)
    record = new_record(
        state, channel, user_id, COMPONENT_INTERACTION, custom_id=custom_id, message_id=message_id
    )
    payload = _component_payload(state, record, channel, stored.data, int(component["type"]))
    delivered = await hub.dispatch("INTERACTION_CREATE", payload)
    return record, delivered


# what the bot answers ---------------------------------------------------------------


def _record_by_token(state: SandboxState, token: str) -> InteractionRecord:
    for record in state.interactions.values():
        if secrets.compare_digest(record.token, token):
            return record
    raise DiscordError(404, 10015)


def _new_reply(state: SandboxState, record: InteractionRecord, body: JSON) -> tuple[JSON, bool]:
    """Store a reply message (in the channel unless ephemeral); return it and ephemerality."""
    channel = state.channels[record.channel_id]
    ephemeral = bool(int(body.get("flags") or 0) & payloads.EPHEMERAL_FLAG)
    if not ephemeral:
        return state.create_message(channel, body), False
    message = payloads.message_payload(
        state.snowflakes.next(), channel.id, payloads.bot_user_payload()
    )
    payloads.apply_message_body(message, body)
    state.add_ephemeral(channel, message)
    return message, True


async def _announce(hub: GatewayHub, state: SandboxState, event: str, message: JSON) -> None:
    channel = state.channels.get(int(message["channel_id"]))
    if channel is None or int(message["id"]) not in channel.messages:
        return  # ephemeral messages are seen by one user only, never by the Gateway
    if channel.guild_id is None:
        await hub.dispatch(event, message, intent=INTENT_DIRECT_MESSAGES)
    else:
        data = {**message, "guild_id": str(channel.guild_id)}
        await hub.dispatch(event, data, intent=INTENT_GUILD_MESSAGES)


@routes.post("/api/v10/interactions/{interaction_id}/{interaction_token}/callback")
async def interaction_callback(request: web.Request) -> web.Response:
    """Record the bot's response to an interaction (message, update, defer or modal)."""
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        record = state.interactions[int(request.match_info["interaction_id"])]
    except (KeyError, ValueError) as exc:
        raise DiscordError(404, 10062) from exc
    if not secrets.compare_digest(record.token, request.match_info["interaction_token"]):
        raise DiscordError(404, 10062)
    if record.response_type is not None:
        raise DiscordError(400, 40060)
    body = await read_json(request)
    kind = int(body.get("type") or 0)
    data: JSON = body.get("data") or {}
    message: JSON | None = None
    allowed = ALLOWED_RESPONSES.get(record.kind, set())
    if (
        kind == PONG
        or kind not in allowed
        or (kind == UPDATE_MESSAGE and record.message_id is None)
    ):
        raise DiscordError(400, 50035, {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES"}]}})
    if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
        validate_message_body(data, creating=kind == CHANNEL_MESSAGE)
    if kind == CHANNEL_MESSAGE:
        message, record.ephemeral = _new_reply(state, record, data)
        await _announce(hub, state, "MESSAGE_CREATE", message)
    elif kind == DEFERRED_MESSAGE:
        flags = int(data.get("flags") or 0) | LOADING_FLAG
        message, record.ephemeral = _new_reply(state, record, {"content": "", "flags": flags})
    elif kind == UPDATE_MESSAGE and record.message_id is not None:
        _, stored = state.find_message(record.message_id)
        message = state.edit_message(stored, data)
        await _announce(hub, state, "MESSAGE_UPDATE", message)
    elif kind == AUTOCOMPLETE_RESULT:
        record.choices = _checked_choices(data.get("choices"))
    elif kind == MODAL:
        record.modal = validate_modal(data)
    record.response_type = kind
    record.response = message
    # A defer is not yet an answer: wait for the edit or followup that carries it.
    if kind not in (DEFERRED_MESSAGE, DEFERRED_UPDATE):
        record.answered.set()
    if request.query.get("with_response", "").lower() not in ("1", "true"):
        return web.Response(status=204)
    return web.json_response(_callback_body(record, kind, message))


def _checked_choices(choices: Any) -> list[JSON]:
    """An autocomplete result's choices, refused as Discord refuses them (at most 25)."""
    if not isinstance(choices, list):
        raise invalid_form_body({"choices": {"_errors": [{"code": "LIST_TYPE_CONVERT"}]}})
    if len(choices) > CHOICES_MAX:
        too_many = {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer"}]}
        raise invalid_form_body({"choices": too_many})
    errors: JSON = {}
    for index, choice in enumerate(choices):
        name = str((choice or {}).get("name") or "")
        if not 1 <= len(name) <= 100 or "value" not in choice:
            errors[str(index)] = {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}
    if errors:
        raise invalid_form_body({"choices": errors})
    return [{"name": c["name"], "value": c["value"]} for c in choices]


def validate_modal(data: JSON) -> JSON:
    """A modal the bot opens: a title, a custom_id and 1 to 5 rows of text inputs."""
    errors: JSON = {}
    if not 1 <= len(str(data.get("title") or "")) <= 45:
        errors["title"] = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "1 to 45"}]}
    if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
        errors["custom_id"] = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        errors["components"] = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "1 to 5"}]}
    if errors:
        raise invalid_form_body(errors)
    return data


def modal_inputs(modal: JSON) -> list[JSON]:
    """The text inputs of a modal, in rows (type 1) or labels (type 18)."""
    found: list[JSON] = []
    for row in modal.get("components") or []:
        if row.get("type") == 1:
            found.extend(c for c in row.get("components") or [] if c.get("type") == 4)
        elif row.get("type") == 18 and (row.get("component") or {}).get("type") == 4:
            found.append(row["component"])
    return found


def _callback_body(record: InteractionRecord, kind: int, message: JSON | None) -> JSON:
    body: JSON = {
        "interaction": {
            "id": str(record.id),
            "type": record.kind,
            "activity_instance_id": None,
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": record.ephemeral,
        }
    }
    if message is not None:
        body["resource"] = {"type": kind, "message": message}
    return body


@routes.post("/api/v10/webhooks/{webhook_id}/{webhook_token}")
async def create_followup(request: web.Request) -> web.Response:
    """Send a followup message for an interaction (ephemeral if flags say so)."""
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    record = _record_by_token(state, request.match_info["webhook_token"])
    body = await read_json(request)
    validate_message_body(body, creating=True)
    message, _ = _new_reply(state, record, body)
    record.followups.append(message)
    record.answered.set()
    await _announce(hub, state, "MESSAGE_CREATE", message)
    if request.query.get("wait", "").lower() not in ("1", "true"):
        return web.Response(status=204)
    return web.json_response(message)


def _webhook_message(state: SandboxState, record: InteractionRecord, ref: str) -> JSON:
    """Resolve @original or a message id to a message this interaction may touch."""
    if ref == "@original":
        if record.response_type in (DEFERRED_UPDATE, UPDATE_MESSAGE) and record.message_id:
            return state.find_message(record.message_id)[1].data
        if record.response is None:
            raise DiscordError(404, 10008)
        return record.response
    candidates: list[JSON] = [*record.followups]
    if record.response is not None:
        candidates.append(record.response)
    for message in candidates:
        if message["id"] == ref:
            return message
    if record.message_id is not None and ref == str(record.message_id):
        return state.find_message(record.message_id)[1].data
    raise DiscordError(404, 10008)


@routes.route("*", "/api/v10/webhooks/{webhook_id}/{webhook_token}/messages/{message_ref}")
async def webhook_message(request: web.Request) -> web.Response:
    """Get, edit or delete an interaction's original response or a followup."""
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    record = _record_by_token(state, request.match_info["webhook_token"])
    message = _webhook_message(state, record, request.match_info["message_ref"])
    channel = state.channels.get(int(message["channel_id"]))
    stored = channel.messages.get(int(message["id"])) if channel else None
    if request.method == "GET":
        return web.json_response(message)
    if request.method == "DELETE":
        if channel is not None and stored is not None:
            state.delete_message(channel, int(message["id"]))
        if record.response is message:
            record.response = None
        return web.Response(status=204)
    if request.method != "PATCH":
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "PATCH", "DELETE"])
    body: dict[str, Any] = await read_json(request)
    validate_message_body(body, creating=False)
    if stored is not None:
        state.edit_message(stored, body)
        await _announce(hub, state, "MESSAGE_UPDATE", message)
    else:
        payloads.apply_message_body(message, body)
        message["edited_timestamp"] = payloads.now_iso()
    message["flags"] = int(message.get("flags") or 0) & ~LOADING_FLAG
    record.answered.set()
    return web.json_response(message)
