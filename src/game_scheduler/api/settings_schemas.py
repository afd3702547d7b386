"""Bodies of `/api/v1/me` and `/api/v1/guilds/{guild_id}/settings`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from game_scheduler.api.schemas import (
    DurationMinutes,
    ReminderMinutes,
    Snowflake,
    sent_changes,
)
from game_scheduler.api.schemas import _Request as _ClosedRequest


class _Request(_ClosedRequest):
    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return sent_changes(self, ())


class GuildAccessOut(BaseModel):
    """A server the person shares with the bot, and what they may do there."""

    guild_id: Snowflake
    name: str
    can_host: bool
    can_manage: bool


class MeOut(BaseModel):
    """The signed-in person, their settings and their servers."""

    user_id: Snowflake
    username: str
    timezone: str | None = Field(description="IANA name; null: each server's own")
    dm_reminders: bool
    calendar_url: str = Field(description="the personal iCalendar feed; the URL is the key")
    csrf_token: str = Field(description="send as X-CSRF-Token with every change")
    guilds: list[GuildAccessOut]


class MeUpdate(_Request):
    """The body of `PATCH /api/v1/me`: only the fields sent change."""

    timezone: StrictStr | None = Field(
        default=None, max_length=64, description="IANA name such as Europe/Berlin; null: unset"
    )
    dm_reminders: StrictBool | None = None
    rotate_calendar_token: StrictBool = Field(
        default=False, description="true: a new calendar URL; the old one stops working"
    )

    def settings_changes(self) -> dict[str, Any]:
        """The personal settings sent (not the rotate flag)."""
        changes = self.changes()
        changes.pop("rotate_calendar_token", None)
        if changes.get("dm_reminders", True) is None:
            changes.pop("dm_reminders")
        return changes


class GuildSettingsOut(BaseModel):
    """A server's settings: its time zone, host roles and the defaults new games take."""

    guild_id: Snowflake
    timezone: str
    host_role_ids: list[Snowflake]
    default_channel_id: Snowflake | None
    default_reminder_minutes: list[int] | None
    default_duration_minutes: int | None
    scheduled_events_enabled: bool = Field(
        description="games are mirrored as Discord events in the server's Events tab"
    )
    scheduled_events_error: str | None = Field(
        description="why the bot could not create Discord events here (read only), if it could not"
    )
    checkin_enabled: bool = Field(
        default=False, description="new games ask players to check in (off by default)"
    )
    checkin_minutes: int = Field(default=120, description="minutes before the start")
    release_enabled: bool = Field(
        default=False, description="unanswered seats go to the waitlist at release_minutes"
    )
    release_minutes: int = Field(default=30, description="minutes before the start")


class GuildSettingsUpdate(_Request):
    """The body of `PATCH /api/v1/guilds/{guild_id}/settings`: only the fields sent change."""

    timezone: StrictStr | None = Field(default=None, max_length=64, description="IANA name")
    host_role_ids: list[Snowflake] | None = Field(default=None, max_length=250)
    default_channel_id: Snowflake | None = None
    default_reminder_minutes: ReminderMinutes | None = None
    default_duration_minutes: DurationMinutes | None = None
    scheduled_events_enabled: StrictBool | None = None
    checkin_enabled: StrictBool | None = None
    checkin_minutes: Annotated[StrictInt, Field(ge=1, le=10_080)] | None = None
    release_enabled: StrictBool | None = None
    release_minutes: Annotated[StrictInt, Field(ge=1, le=10_080)] | None = None
