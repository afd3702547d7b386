"""Who is typing a command: their rights in the server and their time zone.

What Discord tells about the person (their role ids, their permission bits, whether they
own the server) is read from the interaction on the event loop; the server's settings
(host roles, time zone) and the person's own zone come from the database. The rights
themselves are decided by the one rule book, `domain/permissions.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.db.models import GuildSettings, UserSettings
from game_scheduler.domain.permissions import Member, Rights, rights_of
from game_scheduler.domain.when import zone_of

DEFAULT_ZONE = "UTC"


@dataclass(frozen=True)
class Facts:
    """What the interaction says about the person and where they typed."""

    user_id: int
    guild_id: int
    channel_id: int
    role_ids: frozenset[int]
    permissions: int
    is_owner: bool


@dataclass(frozen=True)
class Caller:
    """A person in one server: what they may do there and the zone their times are in."""

    facts: Facts
    rights: Rights
    zone: str  # their own zone, else the server's
    server_zone: str
    host_role_ids: tuple[int, ...]

    @property
    def user_id(self) -> int:
        """The person's Discord id."""
        return self.facts.user_id

    @property
    def guild_id(self) -> int:
        """The server's Discord id."""
        return self.facts.guild_id


def facts_of(interaction: discord.Interaction[Any]) -> Facts | None:
    """The person's facts from a guild interaction; None in a DM."""
    user = interaction.user
    if interaction.guild_id is None or interaction.channel_id is None:
        return None
    if isinstance(user, discord.Member):
        # The ids Discord sent with the interaction: `Member.roles` would drop any role
        # the client's cache has not seen yet.
        role_ids = frozenset(int(r) for r in user._roles)
    else:
        role_ids = frozenset()
    guild = interaction.guild
    owner_id = guild.owner_id if guild is not None else None
    return Facts(
        user_id=user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        role_ids=role_ids,
        permissions=interaction.permissions.value,
        is_owner=owner_id is not None and owner_id == user.id,
    )


def load_caller(session: Session, facts: Facts) -> Caller:
    """The person's rights and zone, from the interaction and the stored settings."""
    guild = session.get(GuildSettings, facts.guild_id)
    user = session.get(UserSettings, facts.user_id)
    host_role_ids = tuple(guild.host_role_ids) if guild is not None else ()
    member = Member(user_id=facts.user_id, role_ids=facts.role_ids, is_owner=facts.is_owner)
    rights = rights_of(member, facts.permissions, host_role_ids)
    server_zone = guild.timezone if guild is not None and zone_of(guild.timezone) else DEFAULT_ZONE
    own = user.timezone if user is not None else None
    zone = own if own and zone_of(own) else server_zone
    return Caller(facts, rights, zone, server_zone, host_role_ids)


def set_user_zone(session: Session, user_id: int, zone: str | None, now: datetime) -> None:
    """Store a person's time zone (None: follow each server's)."""
    statement = insert(UserSettings).values(user_id=user_id, timezone=zone)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[UserSettings.user_id], set_={"timezone": zone, "updated_at": now}
        )
    )


def guild_settings(session: Session, guild_id: int) -> GuildSettings:
    """The server's settings row, created with the defaults when missing (locked)."""
    session.execute(insert(GuildSettings).values(guild_id=guild_id).on_conflict_do_nothing())
    query = select(GuildSettings).where(GuildSettings.guild_id == guild_id).with_for_update()
    return session.scalars(query).one()


def default_reminders(session: Session, guild_id: int) -> Sequence[int] | None:
    """The server's default reminder minutes, if it set them."""
    guild = session.get(GuildSettings, guild_id)
    return guild.default_reminder_minutes if guild is not None else None


def default_duration(session: Session, guild_id: int) -> int | None:
    """The server's default game length in minutes, if it set one."""
    guild = session.get(GuildSettings, guild_id)
    return guild.default_duration_minutes if guild is not None else None


def default_channel(session: Session, guild_id: int) -> int | None:
    """The channel the server's new games go to, if it chose one."""
    guild = session.get(GuildSettings, guild_id)
    return guild.default_channel_id if guild is not None else None
