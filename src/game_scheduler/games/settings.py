"""A server's settings and a person's settings: read with defaults, changed field by field.

Used by the API (and any other front door) inside the caller's transaction. A server or
person without a row reads as the defaults of `guild_settings`/`user_settings`; the
first change creates the row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.calendar.tokens import calendar_token_for, new_calendar_token
from game_scheduler.db.models import GuildSettings, UserSettings
from game_scheduler.domain.checkin import DEFAULT_CHECKIN_MINUTES, DEFAULT_RELEASE_MINUTES
from game_scheduler.domain.recurrence import check_timezone
from game_scheduler.domain.validation import (
    InvalidField,
    check_duration,
    check_reminder_minutes,
    check_snowflake,
)

GUILD_FIELDS = frozenset(
    {
        "timezone",
        "host_role_ids",
        "default_channel_id",
        "default_reminder_minutes",
        "default_duration_minutes",
        "scheduled_events_enabled",
        "checkin_enabled",
        "checkin_minutes",
        "release_enabled",
        "release_minutes",
    }
)
USER_FIELDS = frozenset({"timezone", "dm_reminders"})


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidField(name, "must be true or false")
    return value


def _check_minutes(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_080:
        raise InvalidField(name, "must be 1 to 10080 minutes")
    return value


def _check_role_ids(values: list[int]) -> list[int]:
    for value in values:
        check_snowflake("host_role_ids", value)
    return sorted(set(values))


_GUILD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "timezone": check_timezone,
    "host_role_ids": _check_role_ids,
    "default_channel_id": lambda v: None if v is None else check_snowflake("default_channel_id", v),
    "default_reminder_minutes": lambda v: None if v is None else check_reminder_minutes(list(v)),
    "default_duration_minutes": lambda v: None if v is None else check_duration(v),
    "scheduled_events_enabled": lambda v: _check_flag("scheduled_events_enabled", v),
    "checkin_enabled": lambda v: _check_flag("checkin_enabled", v),
    "checkin_minutes": lambda v: _check_minutes("checkin_minutes", v),
    "release_enabled": lambda v: _check_flag("release_enabled", v),
    "release_minutes": lambda v: _check_minutes("release_minutes", v),
}


def _check_user_timezone(value: str | None) -> str | None:
    return None if value is None else check_timezone(value)


def read_guild_settings(session: Session, guild_id: int) -> GuildSettings:
    """The server's settings; the defaults (not stored) when nobody changed any yet."""
    found = session.get(GuildSettings, guild_id)
    if found is not None:
        return found
    return GuildSettings(
        guild_id=guild_id,
        timezone="UTC",
        host_role_ids=[],
        default_channel_id=None,
        default_reminder_minutes=None,
        default_duration_minutes=None,
        scheduled_events_enabled=True,
        scheduled_events_error=None,
        checkin_enabled=False,
        checkin_minutes=DEFAULT_CHECKIN_MINUTES,
        release_enabled=False,
        release_minutes=DEFAULT_RELEASE_MINUTES,
    )


def guild_settings(session: Session, guild_id: int) -> GuildSettings:
    """The server's settings row, created with the defaults if it does not exist yet."""
    session.execute(
        insert(GuildSettings)
        .values(guild_id=guild_id)
        .on_conflict_do_nothing(index_elements=[GuildSettings.guild_id])
    )
    found = session.get(GuildSettings, guild_id, populate_existing=True)
    assert found is not None  # inserted or already there, in this transaction
    return found


def update_guild_settings(
    session: Session, guild_id: int, changes: dict[str, Any], *, now: datetime
) -> GuildSettings:
    """Change the fields given; each is checked first, so a bad one changes nothing."""
    unknown = set(changes) - GUILD_FIELDS
    if unknown:
        raise InvalidField(sorted(unknown)[0], "is not a server setting")
    for name in ("timezone", "host_role_ids", "scheduled_events_enabled"):
        if name in changes and changes[name] is None:
            raise InvalidField(name, "cannot be null; leave it out to keep it")
    checked = {name: _GUILD_CHECKS[name](value) for name, value in changes.items()}
    row = guild_settings(session, guild_id)
    for name, value in checked.items():
        setattr(row, name, value)
    row.updated_at = now
    session.flush()
    return row


def user_settings(session: Session, user_id: int) -> UserSettings:
    """The person's settings row (with a calendar token), created if it does not exist yet."""
    calendar_token_for(session, user_id)  # the one place that makes the row and its token
    found = session.get(UserSettings, user_id)
    assert found is not None  # made by calendar_token_for, in this transaction
    return found


def update_user_settings(
    session: Session,
    user_id: int,
    changes: dict[str, Any],
    *,
    now: datetime,
    rotate_calendar_token: bool = False,
) -> UserSettings:
    """Change the person's time zone or DM reminders; optionally give a new calendar token."""
    unknown = set(changes) - USER_FIELDS
    if unknown:
        raise InvalidField(sorted(unknown)[0], "is not a personal setting")
    if "timezone" in changes:
        changes = {**changes, "timezone": _check_user_timezone(changes["timezone"])}
    row = user_settings(session, user_id)
    for name, value in changes.items():
        setattr(row, name, value)
    if rotate_calendar_token:
        # The old feed URL stops working at commit.
        row.calendar_token = new_calendar_token()
    row.updated_at = now
    session.flush()
    return row
