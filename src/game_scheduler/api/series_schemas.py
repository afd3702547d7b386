"""Request and response bodies of `/api/v1/series`: a repeating game and its occurrences.

The game fields are those of `POST /api/v1/games` (same types, same limits); instead of
`scheduled_at` a series has `rrule`, `timezone` and `local_start`, a wall-clock time with
no offset (the zone says where). Times in answers are ISO 8601 UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StrictStr,
    WithJsonSchema,
)

from game_scheduler.api.schemas import (
    Description,
    DurationMinutes,
    MaxPlayers,
    ReminderMinutes,
    ShortText,
    Snowflake,
    Title,
    _Request,
    _storable_text,
    patch_config,
    sent_changes,
)
from game_scheduler.db.models import GameSeries

RRuleText = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=500,
        description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=FR or FREQ=MONTHLY;BYDAY=1SA",
        examples=["FREQ=WEEKLY;BYDAY=FR"],
    ),
    AfterValidator(_storable_text),
]
TimezoneName = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=100,
        description="IANA time zone the series keeps its wall-clock time in",
        examples=["Europe/Berlin"],
    ),
    AfterValidator(_storable_text),
]
# Not JSON Schema's "date-time", which requires an offset: a wall-clock time has none.
LocalDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:00)?$",
            "examples": ["2027-03-19T20:00"],
        }
    ),
]
LOCAL_START_DESCRIPTION = (
    "the first occurrence as a wall-clock time in `timezone`, without an offset, "
    "e.g. 2027-03-19T20:00"
)


class SeriesCreate(_Request):
    """The body of `POST /api/v1/series`."""

    guild_id: Snowflake
    channel_id: Snowflake
    host_id: Snowflake
    title: Title
    rrule: RRuleText
    timezone: TimezoneName
    local_start: LocalDateTime = Field(description=LOCAL_START_DESCRIPTION)
    description: Description | None = None
    where: ShortText | None = None
    signup_instructions: ShortText | None = None
    max_players: MaxPlayers | None = None
    expected_duration_minutes: DurationMinutes | None = Field(
        default=None, description="null: 60 minutes"
    )
    reminder_minutes: ReminderMinutes = Field(
        default=[60, 15], description="distinct, minutes before each start; [] for none"
    )
    carry_over_players: bool = Field(
        default=False, description="each occurrence starts with the previous one's players"
    )


_NOT_NULL = ("title", "rrule", "timezone", "local_start", "reminder_minutes", "carry_over_players")


class SeriesUpdate(_Request):
    """The body of `PATCH /api/v1/series/{id}`: only the fields sent change."""

    model_config = patch_config(_NOT_NULL)

    title: Title | None = None
    rrule: RRuleText | None = None
    timezone: TimezoneName | None = None
    local_start: LocalDateTime | None = Field(default=None, description=LOCAL_START_DESCRIPTION)
    description: Description | None = None
    where: ShortText | None = None
    signup_instructions: ShortText | None = None
    max_players: MaxPlayers | None = None
    expected_duration_minutes: DurationMinutes | None = None
    reminder_minutes: ReminderMinutes | None = None
    carry_over_players: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, ready for `update_series`; null where it may not be."""
        return sent_changes(self, _NOT_NULL)


class SkipRequest(_Request):
    """The body of `POST /api/v1/series/{id}/skip`."""

    occurrence: AwareDatetime = Field(
        description="the occurrence's start, as `occurrences` lists it, e.g. 2027-03-26T19:00:00Z"
    )


class SeriesOut(BaseModel):
    """A series: its rule, its game fields, whether it runs, and its next start times."""

    id: uuid.UUID
    guild_id: Snowflake
    channel_id: Snowflake
    host_id: Snowflake
    title: str
    description: str | None
    where: str | None
    signup_instructions: str | None
    rrule: str
    timezone: str
    local_start: LocalDateTime = Field(description="wall-clock time in `timezone`, no offset")
    expected_duration_minutes: int | None
    max_players: int | None
    reminder_minutes: list[int]
    carry_over_players: bool
    active: bool = Field(description="false once the series has ended")
    skipped_occurrences: list[datetime]
    next_occurrences: list[datetime] = Field(description="the next start times, UTC")
    created_at: datetime
    updated_at: datetime


class OccurrencesOut(BaseModel):
    """The next start times of a series, computed from its rule in its time zone."""

    series_id: uuid.UUID
    timezone: str
    occurrences: list[datetime] = Field(description="ISO 8601 UTC, skipped ones left out")


def series_out(series: GameSeries, next_occurrences: list[datetime]) -> SeriesOut:
    """The response body of a series."""
    return SeriesOut(
        id=series.id,
        guild_id=series.guild_id,
        channel_id=series.channel_id,
        host_id=series.host_id,
        title=series.title,
        description=series.description,
        where=series.where,
        signup_instructions=series.signup_instructions,
        rrule=series.rrule,
        timezone=series.timezone,
        local_start=series.local_start,
        expected_duration_minutes=series.expected_duration_minutes,
        max_players=series.max_players,
        reminder_minutes=list(series.reminder_minutes),
        carry_over_players=series.carry_over_players,
        active=series.active,
        skipped_occurrences=sorted(series.skipped_occurrences),
        next_occurrences=next_occurrences,
        created_at=series.created_at,
        updated_at=series.updated_at,
    )
