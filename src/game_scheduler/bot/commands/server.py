"""`/timezone` (a person's own zone) and `/settings` (the server's, for its managers)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from sqlalchemy.orm import Session

from game_scheduler.bot.commands import answers
from game_scheduler.bot.commands.games import CommandDeps, say, server_facts
from game_scheduler.bot.commands.people import (
    Facts,
    guild_settings,
    load_caller,
    set_user_zone,
)
from game_scheduler.bot.commands.reading import Refusal
from game_scheduler.db.models import GuildSettings
from game_scheduler.domain.validation import InvalidField, check_reminder_minutes
from game_scheduler.domain.when import (
    Unreadable,
    describe_minutes,
    matching_zones,
    read_duration,
    read_reminders,
    zone_of,
)

FOLLOW_SERVER = "server"


async def _zone_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    names = matching_zones(current)
    return [app_commands.Choice(name=n, value=n) for n in names]


def _unknown_zone(text: str) -> str:
    close = matching_zones(text, limit=3)
    hint = f" Did you mean {', '.join(f'`{z}`' for z in close)}?" if close else ""
    return f"I know no time zone `{text[:60]}`: pick an IANA name from the list.{hint}"


def _local_clock(zone: str, deps: CommandDeps) -> str:
    tz = zone_of(zone)
    now = deps.clock.now()
    return f"{now.astimezone(tz):%H:%M}" if tz is not None else f"{now:%H:%M}"


def timezone_command(deps: CommandDeps) -> app_commands.Command[Any, Any, None]:
    """`/timezone zone:<IANA name>`: the zone a person's times are read and shown in."""

    @app_commands.command(name="timezone", description="Set your time zone")
    @app_commands.describe(zone="An IANA zone like Europe/Berlin, or `server` to follow the server")
    @app_commands.autocomplete(zone=_zone_choices)
    async def timezone(interaction: discord.Interaction[Any], zone: str) -> None:
        wanted = zone.strip()
        follow = wanted.lower() == FOLLOW_SERVER
        if not follow and zone_of(wanted) is None:
            await say(interaction, _unknown_zone(wanted))
            return
        user_id = interaction.user.id
        await deps.run(
            lambda session: set_user_zone(
                session, user_id, None if follow else wanted, deps.clock.now()
            )
        )
        if follow:
            await say(interaction, "Your times now follow each server's time zone.")
            return
        await say(
            interaction,
            f"Your time zone is now {wanted} (it is {_local_clock(wanted, deps)} there). "
            "Times you type are read in it.",
        )

    return timezone


def settings_command(deps: CommandDeps) -> app_commands.Command[Any, Any, None]:
    """`/settings`: show the server's settings, or change some, for its managers."""

    @app_commands.command(name="settings", description="The server's game settings")
    @app_commands.describe(
        timezone="The server's time zone (IANA name)",
        host_role="A role whose members may host games (choose it again to remove it)",
        channel="The channel new games go to by default",
        reminders="Default reminders for new games: 1d, 2h, 15m (or none)",
        checkin="Ask players of new games to check in this long before: 2h (or off)",
        release="Give unanswered seats to the waitlist this long before: 30m (or off)",
    )
    @app_commands.rename(host_role="host-role")
    @app_commands.autocomplete(timezone=_zone_choices)
    async def settings(
        interaction: discord.Interaction[Any],
        timezone: str | None = None,
        host_role: discord.Role | None = None,
        channel: discord.TextChannel | None = None,
        reminders: str | None = None,
        checkin: str | None = None,
        release: str | None = None,
    ) -> None:
        facts = await server_facts(interaction)
        if facts is None:
            return
        role_id = host_role.id if host_role is not None else None
        channel_id = channel.id if channel is not None else None
        try:
            text = await deps.run(
                lambda session: _change_settings(
                    session, deps, facts, timezone, role_id, channel_id, reminders, checkin, release
                )
            )
        except Refusal as refusal:
            await say(interaction, str(refusal))
            return
        await say(interaction, text)

    return settings


def _change_settings(
    session: Session,
    deps: CommandDeps,
    facts: Facts,
    timezone: str | None,
    host_role_id: int | None,
    channel_id: int | None,
    reminders: str | None,
    checkin: str | None = None,
    release: str | None = None,
) -> str:
    caller = load_caller(session, facts)
    if not caller.rights.can_manage:
        raise Refusal(answers.CANNOT_MANAGE + " Nothing was changed.")
    row = guild_settings(session, facts.guild_id)
    said: list[str] = []
    if timezone is not None:
        if zone_of(timezone.strip()) is None:
            raise Refusal(_unknown_zone(timezone) + " Nothing was changed.")
        row.timezone = timezone.strip()
        said.append(f"time zone {row.timezone}")
    if host_role_id is not None:
        roles = list(row.host_role_ids)
        if host_role_id in roles:
            roles.remove(host_role_id)
            said.append(f"<@&{host_role_id}> no longer hosts games")
        else:
            roles.append(host_role_id)
            said.append(f"<@&{host_role_id}> may host games")
        row.host_role_ids = roles
    if channel_id is not None:
        row.default_channel_id = channel_id
        said.append(f"new games go to <#{channel_id}>")
    if reminders is not None:
        read = read_reminders(reminders)
        if isinstance(read, Unreadable):
            raise Refusal(f"`reminders`: {read.reason}. Nothing was changed.")
        try:
            row.default_reminder_minutes = check_reminder_minutes(read)
        except InvalidField as error:
            raise Refusal(
                answers.invalid_option(error, reminders) + " Nothing was changed."
            ) from None
        said.append(answers.reminders_text(row.default_reminder_minutes))
    said += _change_checkin(row, checkin, release)
    if said:
        row.updated_at = deps.clock.now()
        return "Saved: " + "; ".join(said) + "."
    return _describe(
        row.timezone, row.host_role_ids, row.default_channel_id, row.default_reminder_minutes
    )


def _checkin_minutes(option: str, text: str) -> int | None:
    """Minutes from `2h` / `90m`, None for `off`; a Refusal for anything else."""
    cleaned = text.strip().lower()
    if cleaned in ("off", "none", "no", "0"):
        return None
    read = read_duration(cleaned)
    if isinstance(read, Unreadable) or not 1 <= read <= 10_080:
        raise Refusal(
            f"`{option}`: I read '{text[:40]}' as no time before the start I know:"
            " try `2h`, `30m` or `off`. Nothing was changed."
        )
    return read


def _change_checkin(row: GuildSettings, checkin: str | None, release: str | None) -> list[str]:
    """Turn the server's check-in (and release) for new games on or off; what was said."""
    said: list[str] = []
    if checkin is not None:
        minutes = _checkin_minutes("checkin", checkin)
        row.checkin_enabled = minutes is not None
        if minutes is not None:
            row.checkin_minutes = minutes
            said.append(f"new games ask players to check in {describe_minutes(minutes)} before")
        else:
            said.append("new games have no check-in")
    if release is not None:
        minutes = _checkin_minutes("release", release)
        if minutes is not None and minutes >= row.checkin_minutes:
            raise Refusal(
                "`release` must come after the check-in: less time before the start than"
                f" {describe_minutes(row.checkin_minutes)}. Nothing was changed."
            )
        row.release_enabled = minutes is not None
        if minutes is not None:
            row.release_minutes = minutes
            said.append(f"unanswered seats go to the waitlist {describe_minutes(minutes)} before")
        else:
            said.append("unanswered players keep their seats")
    return said


def _describe(
    zone: str,
    host_role_ids: list[int],
    channel_id: int | None,
    reminder_minutes: list[int] | None,
) -> str:
    roles = ", ".join(f"<@&{r}>" for r in host_role_ids) or "none (only managers host)"
    channel = f"<#{channel_id}>" if channel_id else "the channel a game is created in"
    reminders = (
        answers.reminders_text(reminder_minutes)
        if reminder_minutes is not None
        else "the standard ones (1h and 15m before)"
    )
    return (
        f"This server's settings: time zone {zone}; host roles {roles}; "
        f"new games go to {channel}; {reminders}. Options of `/settings` change them."
    )
