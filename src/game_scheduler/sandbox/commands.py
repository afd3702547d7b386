"""Slash commands: registration routes, and /sandbox/command, /autocomplete and /modal.

A command a person types becomes an APPLICATION_COMMAND interaction built from the
command the bot registered (so each option gets the type the bot declared), delivered over
the Gateway; the control route waits for the bot's answer and returns it, as /sandbox/click
does. A modal the bot opened is submitted with /sandbox/modal, and autocomplete is asked
with /sandbox/autocomplete.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.app_commands import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
    validate_commands,
)
from game_scheduler.sandbox.control import _answer, _body, _problem, _wait_seconds
from game_scheduler.sandbox.errors import DiscordError, SandboxError
from game_scheduler.sandbox.gateway import INTENT_GUILDS, GatewayHub
from game_scheduler.sandbox.guilds import GuildError, parse_guild
from game_scheduler.sandbox.http_layer import HUB_KEY, STATE_KEY, snowflake
from game_scheduler.sandbox.interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MODAL_SUBMIT,
    interaction_payload,
    member_data,
    modal_inputs,
    new_record,
)
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import Channel, InteractionRecord, SandboxState

routes = web.RouteTableDef()

COMMAND_WAIT_DEFAULT = 3.0  # seconds: Discord gives a bot three to answer
TEXT_INPUT = 4
LABEL = 18


class CommandError(SandboxError):
    """A command Discord's client would not send (unknown name, option or value)."""


# registration, as discord.py's CommandTree.sync() and fetch_commands() call it ---------


def _application(request: web.Request) -> None:
    if snowflake(request, "application_id", 10002) != payloads.APPLICATION_ID:
        raise DiscordError(403, 50001)


async def _command_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text() or "[]")
    except ValueError as exc:
        raise DiscordError(400, 50035, {"_errors": [{"code": "JSON"}]}) from exc


@routes.get("/api/v10/applications/{application_id}/commands")
async def list_global_commands(request: web.Request) -> web.Response:
    """The application's global commands."""
    _application(request)
    return web.json_response(request.app[STATE_KEY].app_commands.listed(None))


@routes.put("/api/v10/applications/{application_id}/commands")
async def overwrite_global_commands(request: web.Request) -> web.Response:
    """Replace the application's global commands (bulk overwrite)."""
    _application(request)
    body = validate_commands(await _command_body(request))
    return web.json_response(request.app[STATE_KEY].app_commands.overwrite(None, body))


@routes.get("/api/v10/applications/{application_id}/guilds/{guild_id}/commands")
async def list_guild_commands(request: web.Request) -> web.Response:
    """The application's commands in one guild."""
    _application(request)
    guild_id = snowflake(request, "guild_id", 10004)
    return web.json_response(request.app[STATE_KEY].app_commands.listed(guild_id))


@routes.put("/api/v10/applications/{application_id}/guilds/{guild_id}/commands")
async def overwrite_guild_commands(request: web.Request) -> web.Response:
    """Replace the application's commands in one guild (bulk overwrite)."""
    _application(request)
    guild_id = snowflake(request, "guild_id", 10004)
    body = validate_commands(await _command_body(request))
    return web.json_response(request.app[STATE_KEY].app_commands.overwrite(guild_id, body))


# building the interaction -------------------------------------------------------------


async def _place(
    state: SandboxState, hub: GatewayHub, channel_id: int, guild_id: int | None
) -> Channel:
    """The channel a command is typed in (or names), made and announced on first use."""
    channel, created = state.channel(channel_id, guild_id)
    if guild_id is not None and channel.guild_id != guild_id:
        raise CommandError(f"channel {channel_id} is not in guild {guild_id}")
    if created:
        await hub.dispatch("CHANNEL_CREATE", state.channel_payload(channel), intent=INTENT_GUILDS)
    return channel


def _role_payload(role_id: int) -> JSON:
    return {
        "id": str(role_id),
        "name": f"role-{role_id}",
        "permissions": "0",
        "position": 1,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


async def _option_value(
    state: SandboxState,
    hub: GatewayHub,
    channel: Channel,
    definition: JSON,
    value: Any,
    resolved: dict[str, dict[str, JSON]],
    *,
    focused: bool,
) -> Any:
    """The value as Discord sends it for the option's declared type, resolving ids."""
    kind = int(definition["type"])
    name = definition["name"]
    if focused or kind == STRING:
        text = str(value)
        choices = [c["value"] for c in definition.get("choices") or []]
        if not focused and choices and text not in choices:
            raise CommandError(f"{name} must be one of {', '.join(map(str, choices))}")
        return text
    try:
        if kind == INTEGER:
            return int(value)
        if kind == NUMBER:
            return float(value)
        if kind == BOOLEAN:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
        target = int(value)
    except (TypeError, ValueError):
        raise CommandError(f"{name} must be a {_TYPE_NAMES.get(kind, 'value')}") from None
    if kind == CHANNEL:
        named = await _place(state, hub, target, channel.guild_id)
        entry = {**state.channel_payload(named), "permissions": payloads.ALL_PERMISSIONS}
        resolved.setdefault("channels", {})[str(target)] = entry
    elif kind in (USER, MENTIONABLE):
        resolved.setdefault("users", {})[str(target)] = state.user(target)
        if channel.guild_id is not None:
            member = member_data(state, channel.guild_id, target)
            member = {k: v for k, v in member.items() if k != "user"}
            resolved.setdefault("members", {})[str(target)] = member
    elif kind == ROLE:
        resolved.setdefault("roles", {})[str(target)] = _role_payload(target)
    return str(target)


_TYPE_NAMES = {
    INTEGER: "whole number",
    NUMBER: "number",
    BOOLEAN: "true or false",
    CHANNEL: "channel id",
    USER: "user id",
    ROLE: "role id",
    MENTIONABLE: "user or role id",
}


def _leaf(command: JSON, group: str | None, subcommand: str | None) -> tuple[JSON, list[str]]:
    """The (sub)command definition whose options the person fills in, and its path."""
    node, path = command, [command["name"]]
    for wanted, kind in ((group, SUB_COMMAND_GROUP), (subcommand, SUB_COMMAND)):
        if wanted is None:
            continue
        found = next(
            (o for o in node.get("options") or [] if o["name"] == wanted and o["type"] == kind),
            None,
        )
        if found is None:
            raise CommandError(f"/{' '.join(path)} has no subcommand {wanted!r}")
        node, path = found, [*path, wanted]
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in node.get("options") or []):
        raise CommandError(f"/{' '.join(path)} needs a subcommand")
    return node, path


async def _command_data(
    state: SandboxState,
    hub: GatewayHub,
    channel: Channel,
    body: JSON,
    focused: str | None,
) -> tuple[JSON, str]:
    """The interaction's `data` for a typed command, checked as Discord's client checks it."""
    name = str(body.get("name") or "")
    command = state.app_commands.find(channel.guild_id, name)
    if command is None:
        raise CommandError(f"no command /{name} is registered here")
    group = body.get("group")
    subcommand = body.get("subcommand")
    leaf, path = _leaf(command, group, subcommand)
    given = body.get("options") or {}
    if not isinstance(given, dict):
        raise CommandError("options must be an object of option name to value")
    definitions = {o["name"]: o for o in leaf.get("options") or []}
    unknown = sorted(set(given) - set(definitions))
    if unknown:
        raise CommandError(f"/{' '.join(path)} has no option {', '.join(unknown)}")
    if focused is not None and focused not in definitions:
        raise CommandError(f"/{' '.join(path)} has no option {focused}")
    if focused is None:
        missing = [n for n, o in definitions.items() if o.get("required") and n not in given]
        if missing:
            raise CommandError(f"/{' '.join(path)} needs {', '.join(missing)}")
    resolved: dict[str, dict[str, JSON]] = {}
    options: list[JSON] = []
    for option_name, definition in definitions.items():
        if option_name not in given and option_name != focused:
            continue
        is_focused = option_name == focused
        raw = given.get(option_name, "")
        value = await _option_value(
            state, hub, channel, definition, raw, resolved, focused=is_focused
        )
        option: JSON = {"name": option_name, "type": definition["type"], "value": value}
        if is_focused:
            option["focused"] = True
        options.append(option)
    for wanted, kind in ((subcommand, SUB_COMMAND), (group, SUB_COMMAND_GROUP)):
        if wanted is not None:
            options = [{"name": wanted, "type": kind, "options": options}]
    data: JSON = {"id": command["id"], "name": name, "type": 1, "options": options}
    if resolved:
        data["resolved"] = resolved
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data, " ".join(path)


async def _deliver_and_wait(
    hub: GatewayHub, record: InteractionRecord, payload: JSON, wait: Any
) -> web.Response:
    delivered = await hub.dispatch("INTERACTION_CREATE", payload)
    timeout = COMMAND_WAIT_DEFAULT if wait is None else _wait_seconds(wait)
    return await _answer(record, delivered, timeout)


def _ids(body: JSON, *names: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for name in names:
        try:
            found[name] = int(body[name])
        except (KeyError, TypeError, ValueError):
            raise CommandError(f"{', '.join(names)} are required (Discord ids)") from None
    return found


async def _typed(request: web.Request, *, autocomplete: bool) -> web.Response:
    body = await _body(request)
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        ids = _ids(body, "channel_id", "user_id")
        guild_id = int(body["guild_id"]) if body.get("guild_id") is not None else None
        channel = await _place(state, hub, ids["channel_id"], guild_id)
        focused = None
        if autocomplete:
            focused = str(body.get("focused") or "")
            if not focused:
                raise CommandError("focused (the option being typed) is required")
        data, path = await _command_data(state, hub, channel, body, focused)
    except (CommandError, ValueError, TypeError) as exc:
        return _problem(400, str(exc))
    kind = AUTOCOMPLETE if autocomplete else APPLICATION_COMMAND
    record = new_record(state, channel, ids["user_id"], kind, command=path)
    payload = interaction_payload(state, record, channel, data)
    return await _deliver_and_wait(hub, record, payload, body.get("wait"))


@routes.post("/sandbox/command")
async def command(request: web.Request) -> web.Response:
    """Type a slash command as a user; answer with what the bot responded."""
    return await _typed(request, autocomplete=False)


@routes.post("/sandbox/autocomplete")
async def autocomplete(request: web.Request) -> web.Response:
    """Type into one option of a command (`focused`); answer with the bot's choices."""
    return await _typed(request, autocomplete=True)


def _opened_modal(state: SandboxState, body: JSON, custom_id: str) -> InteractionRecord:
    """The interaction whose answer was the modal being submitted."""
    wanted_interaction = body.get("interaction_id")
    wanted_message = body.get("message_id")
    for record in reversed(list(state.interactions.values())):
        if record.modal is None or record.modal.get("custom_id") != custom_id:
            continue
        if wanted_interaction is not None and str(record.id) != str(wanted_interaction):
            continue
        if wanted_message is not None and str(record.message_id) != str(wanted_message):
            continue
        return record
    raise CommandError(f"no open modal with custom_id {custom_id!r}")


def _submitted(modal: JSON, values: dict[str, Any]) -> list[JSON]:
    """The modal's inputs as submitted: given values, else what the bot prefilled."""
    inputs = {i["custom_id"]: i for i in modal_inputs(modal)}
    unknown = sorted(set(values) - set(inputs))
    if unknown:
        raise CommandError(f"the modal has no field {', '.join(unknown)}")
    rows: list[JSON] = []
    for row in modal.get("components") or []:
        item = row.get("component") if row.get("type") == LABEL else None
        children = [item] if item else row.get("components") or []
        submitted = []
        for child in children:
            if child.get("type") != TEXT_INPUT:
                continue
            value = str(values.get(child["custom_id"], child.get("value") or ""))
            if child.get("required", True) and not value:
                raise CommandError(f"{child.get('label') or child['custom_id']} is required")
            if len(value) > int(child.get("max_length") or 4000):
                raise CommandError(f"{child['custom_id']} is longer than {child['max_length']}")
            submitted.append({"type": TEXT_INPUT, "custom_id": child["custom_id"], "value": value})
        if not submitted:
            continue
        if row.get("type") == LABEL:
            rows.append({"type": LABEL, "component": submitted[0]})
        else:
            rows.append({"type": 1, "components": submitted})
    return rows


@routes.post("/sandbox/modal")
async def submit_modal(request: web.Request) -> web.Response:
    """Submit a modal the bot opened, as the user it was opened for."""
    body = await _body(request)
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        user_id = _ids(body, "user_id")["user_id"]
        custom_id = str(body.get("custom_id") or "")
        opened = _opened_modal(state, body, custom_id)
        if opened.user_id != user_id:
            raise CommandError("a modal is submitted by the user it was opened for")
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise CommandError("values must be an object of field custom_id to text")
        assert opened.modal is not None  # found by its modal
        rows = _submitted(opened.modal, values)
    except CommandError as exc:
        return _problem(400, str(exc))
    channel = state.channels[opened.channel_id]
    record = new_record(
        state,
        channel,
        user_id,
        MODAL_SUBMIT,
        command=opened.command,
        custom_id=custom_id,
        message_id=opened.message_id,
    )
    payload = interaction_payload(
        state, record, channel, {"custom_id": custom_id, "components": rows}
    )
    if record.message_id is not None:
        with contextlib.suppress(DiscordError):
            payload["message"] = state.find_message(record.message_id)[1].data
    return await _deliver_and_wait(hub, record, payload, body.get("wait"))


@routes.post("/sandbox/guilds")
async def describe_guild(request: web.Request) -> web.Response:
    """Create or replace a server with its owner, roles, members and channels."""
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        guild = parse_guild(await _body(request))
    except GuildError as exc:
        return _problem(400, str(exc))
    created = guild.id not in state.guilds
    payload = state.add_guild(guild)
    await hub.dispatch("GUILD_CREATE" if created else "GUILD_UPDATE", payload, intent=INTENT_GUILDS)
    if not created:
        for channel in payload["channels"]:
            await hub.dispatch("CHANNEL_UPDATE", channel, intent=INTENT_GUILDS)
    return web.json_response({"guild_id": str(guild.id), "members": len(guild.members)}, status=201)


@routes.post("/sandbox/bot-permissions")
async def bot_permissions(request: web.Request) -> web.Response:
    """Deny the bot permission bits in a channel (`deny`, Discord's decimal bit-set)."""
    body = await _body(request)
    state, hub = request.app[STATE_KEY], request.app[HUB_KEY]
    try:
        channel_id = _ids(body, "channel_id")["channel_id"]
        deny = int(str(body.get("deny", "0")))
    except (CommandError, ValueError) as exc:
        return _problem(400, f"channel_id and deny (a decimal bit-set) are required: {exc}")
    channel, created = state.channel(channel_id)
    channel.bot_denied = deny
    event = "CHANNEL_CREATE" if created else "CHANNEL_UPDATE"
    await hub.dispatch(event, state.channel_payload(channel), intent=INTENT_GUILDS)
    answer = {"channel_id": str(channel.id), "bot_permissions": str(state.bot_permissions(channel))}
    return web.json_response(answer)
