"""Request and response bodies of REST API v1, and how JSON maps to the game service.

Snowflakes travel as decimal strings (JavaScript loses precision past 2**53); a request may
also send them as JSON integers. Times are ISO 8601 with an offset. Unknown fields are
refused, so a misspelt field is a 422 and never silently ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictStr,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from game_scheduler.db.models import GameParticipant, GameSession
from game_scheduler.domain.ids import MAX_SNOWFLAKE
from game_scheduler.domain.roster import Roster
from game_scheduler.domain.schedule_plan import MAX_REMINDER_MINUTES
from game_scheduler.domain.status import GameStatus
from game_scheduler.domain.validation import (
    MAX_DURATION_MINUTES,
    MAX_PLAYERS_LIMIT,
    MAX_REMINDERS,
    MAX_TITLE_LENGTH,
    InvalidField,
)

MAX_DESCRIPTION_LENGTH = 4000  # Discord embeds hold 4,096 characters of description
MAX_SHORT_TEXT_LENGTH = 1000  # an embed field holds 1,024
MAX_DISPLAY_NAME_LENGTH = 100
SNOWFLAKE_PATTERN = r"^[1-9][0-9]{0,18}$"


def parse_snowflake(value: object) -> int:
    """A Discord id from a string of digits or an integer, checked against the BIGINT range."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise PydanticCustomError(
            "snowflake", 'must be a Discord id: a string of digits such as "80351110224678912"'
        )
    if not 0 < number <= MAX_SNOWFLAKE:
        raise PydanticCustomError(
            "snowflake", f"must be a Discord id between 1 and {MAX_SNOWFLAKE}"
        )
    return number


Snowflake = Annotated[
    int,
    PlainValidator(parse_snowflake),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": SNOWFLAKE_PATTERN, "examples": ["80351110224678912"]}
    ),
]


def _storable_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8:
    # both would fail inside the database as a 500 instead of a 422 here.
    if "\x00" in value:
        raise PydanticCustomError("text", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "must be valid Unicode text") from None
    return value


def _iso_time_text(value: object) -> object:
    # Pydantic reads a number (or a string of digits) as a Unix time in UTC; the API asks
    # for ISO 8601 with an offset, so that the time zone is always the client's choice.
    text = value.strip() if isinstance(value, str) else value
    if isinstance(value, bool | int | float) or (
        isinstance(text, str) and text.lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise PydanticCustomError(
            "unix_time",
            "must be an ISO 8601 time with an offset such as 2030-06-01T19:00:00Z,"
            " not a number: Unix times are refused",
        )
    return value


def _whole_number(value: object) -> object:
    # JSON numbers like 4.0 are whole; true, false and "4" are not numbers at all.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


# Declared in the schema too, so generated clients (and Schemathesis) know the rule.
_NO_NUL = {"pattern": "^[^\\x00]*$"}
_NOT_BLANK = {"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"}

Title = Annotated[
    StrictStr,
    Field(min_length=1, max_length=MAX_TITLE_LENGTH, json_schema_extra=_NOT_BLANK),
    AfterValidator(_storable_text),
]
Description = Annotated[
    StrictStr,
    Field(max_length=MAX_DESCRIPTION_LENGTH, json_schema_extra=_NO_NUL),
    AfterValidator(_storable_text),
]
ShortText = Annotated[
    StrictStr,
    Field(max_length=MAX_SHORT_TEXT_LENGTH, json_schema_extra=_NO_NUL),
    AfterValidator(_storable_text),
]
DisplayName = Annotated[
    StrictStr,
    Field(min_length=1, max_length=MAX_DISPLAY_NAME_LENGTH, json_schema_extra=_NO_NUL),
    AfterValidator(_storable_text),
]
OffsetDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_time_text)]
MaxPlayers = Annotated[int, Field(ge=1, le=MAX_PLAYERS_LIMIT), BeforeValidator(_whole_number)]
DurationMinutes = Annotated[
    int, Field(ge=1, le=MAX_DURATION_MINUTES), BeforeValidator(_whole_number)
]
CheckinMinutes = Annotated[
    int, Field(ge=1, le=MAX_REMINDER_MINUTES), BeforeValidator(_whole_number)
]
ReminderMinutes = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_REMINDER_MINUTES), BeforeValidator(_whole_number)]],
    Field(max_length=MAX_REMINDERS, json_schema_extra={"uniqueItems": True}),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GameCreate(_Request):
    """The body of `POST /api/v1/games`."""

    guild_id: Snowflake
    channel_id: Snowflake
    host_id: Snowflake
    title: Title
    scheduled_at: OffsetDatetime = Field(
        description="ISO 8601 with an offset, in the future, e.g. 2030-06-01T19:00:00+02:00"
    )
    description: Description | None = None
    where: ShortText | None = None
    signup_instructions: ShortText | None = None
    max_players: MaxPlayers | None = Field(
        default=None, description="beyond this many, players join the waitlist; null: no limit"
    )
    expected_duration_minutes: DurationMinutes | None = Field(
        default=None, description="null: 60 minutes"
    )
    reminder_minutes: ReminderMinutes = Field(
        default=[60, 15], description="distinct, minutes before the start; [] for none"
    )
    checkin_minutes: CheckinMinutes | None = Field(
        default=None,
        description="minutes before the start confirmed players are asked to check in;"
        " left out: the server's setting; null: no check-in",
    )
    release_minutes: CheckinMinutes | None = Field(
        default=None,
        description="minutes before the start unanswered seats go to the waitlist (less than"
        " checkin_minutes); null: they keep their seats",
    )
    min_players: MaxPlayers | None = Field(
        default=None, description="fewer confirmed players at check-in: the host is told"
    )


# PATCH fields that may not be cleared: null is refused instead of meaning "unset".
_REQUIRED_ON_PATCH = ("title", "scheduled_at", "reminder_minutes")


def drop_null_option(schema: dict[str, Any], names: Sequence[str]) -> None:
    """Take null out of these properties of a PATCH body's JSON Schema: left out they mean
    "unchanged", and null is refused, so the document must not offer it."""
    for name in names:
        prop = schema["properties"][name]
        options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            prop.update(options[0])


def patch_config(not_null: Sequence[str]) -> ConfigDict:
    """The model config of a PATCH body whose `not_null` fields may be left out, not nulled."""
    names = tuple(not_null)

    def without_null(schema: dict[str, Any]) -> None:
        drop_null_option(schema, names)

    return ConfigDict(extra="forbid", json_schema_extra=without_null)


def sent_changes(body: BaseModel, not_null: Sequence[str]) -> dict[str, Any]:
    """The fields a PATCH body sent; InvalidField for null where null may not be sent."""
    sent = {name: getattr(body, name) for name in body.model_fields_set}
    for name in not_null:
        if name in sent and sent[name] is None:
            raise InvalidField(name, "cannot be null; leave it out to keep it")
    return sent


def _not_nullable_in_schema(schema: dict[str, Any]) -> None:
    drop_null_option(schema, _REQUIRED_ON_PATCH)


class GameUpdate(_Request):
    """The body of `PATCH /api/v1/games/{id}`: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_not_nullable_in_schema)

    title: Title | None = None
    scheduled_at: OffsetDatetime | None = None
    description: Description | None = None
    where: ShortText | None = None
    signup_instructions: ShortText | None = None
    max_players: MaxPlayers | None = None
    expected_duration_minutes: DurationMinutes | None = None
    reminder_minutes: ReminderMinutes | None = None
    checkin_minutes: CheckinMinutes | None = None
    release_minutes: CheckinMinutes | None = None
    min_players: MaxPlayers | None = None

    @field_validator(*_REQUIRED_ON_PATCH, mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError("not_nullable", "cannot be null; leave it out to keep it")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, ready for `update_game`."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class JoinRequest(_Request):
    """The body of `POST /api/v1/games/{id}/participants`."""

    user_id: Snowflake
    display_name: DisplayName | None = None


class ParticipantOut(BaseModel):
    """A player in a game; `waitlist_position` is 1-based, null when confirmed."""

    id: uuid.UUID
    user_id: Snowflake | None = Field(description="null for a placeholder the host added")
    display_name: str | None
    joined_at: datetime
    waitlist_position: int | None


class GameOut(BaseModel):
    """A game with its players split into confirmed and waitlist, each in join order."""

    id: uuid.UUID
    guild_id: Snowflake
    channel_id: Snowflake
    message_id: Snowflake | None = Field(description="null until the bot has posted it")
    post_error: str | None = Field(
        default=None,
        description="why the bot could not post or edit the game's message (the channel and"
        " the missing permission); null while it can. Retried whenever the game changes",
    )
    host_id: Snowflake
    title: str
    description: str | None
    where: str | None
    signup_instructions: str | None
    scheduled_at: datetime
    expected_duration_minutes: int | None
    max_players: int | None
    reminder_minutes: list[int]
    checkin_minutes: int | None = None
    release_minutes: int | None = None
    min_players: int | None = None
    status: GameStatus
    created_at: datetime
    updated_at: datetime
    confirmed: list[ParticipantOut]
    waitlist: list[ParticipantOut]


class JoinOut(BaseModel):
    """A join: the new participant (with its waitlist place, if any) and the game after it."""

    participant: ParticipantOut
    game: GameOut


class GamePageOut(BaseModel):
    """One page of games; pass `next_cursor` as `cursor` for the next, null on the last."""

    items: list[GameOut]
    next_cursor: str | None


class FieldErrorOut(BaseModel):
    """One field that broke a rule, and why."""

    field: str | None
    message: str


class ErrorDetail(BaseModel):
    """What went wrong: a stable `code`, a `message` for people, the `field` if one is to blame."""

    code: str
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] = Field(default_factory=list)


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class HealthOut(BaseModel):
    """Liveness or readiness, with one entry per dependency checked."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


def participant_out(participant: GameParticipant, position: int | None) -> ParticipantOut:
    """The response body of one participant."""
    return ParticipantOut(
        id=participant.id,
        user_id=participant.user_id,
        display_name=participant.display_name,
        joined_at=participant.joined_at,
        waitlist_position=position,
    )


def game_out(game: GameSession, roster: Roster[GameParticipant]) -> GameOut:
    """The response body of a game loaded with its participants."""
    return GameOut(
        id=game.id,
        guild_id=game.guild_id,
        channel_id=game.channel_id,
        message_id=game.message_id,
        post_error=game.post_error,
        host_id=game.host_id,
        title=game.title,
        description=game.description,
        where=game.where,
        signup_instructions=game.signup_instructions,
        scheduled_at=game.scheduled_at,
        expected_duration_minutes=game.expected_duration_minutes,
        max_players=game.max_players,
        reminder_minutes=list(game.reminder_minutes),
        checkin_minutes=game.checkin_minutes,
        release_minutes=game.release_minutes,
        min_players=game.min_players,
        status=GameStatus(game.status),
        created_at=game.created_at,
        updated_at=game.updated_at,
        confirmed=[participant_out(p, None) for p in roster.confirmed],
        waitlist=[participant_out(p, i) for i, p in enumerate(roster.waitlist, start=1)],
    )
