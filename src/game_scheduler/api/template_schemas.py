"""Bodies of `/api/v1/guilds/{guild_id}/templates`: a server's presets for new games.

The game fields have the types and limits of `POST /api/v1/games`; every one may be left
empty (null), and the form or command that starts from the template asks for the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StrictStr

from game_scheduler.api.schemas import (
    _NOT_BLANK,
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
from game_scheduler.db.models import GameTemplate
from game_scheduler.games.templates import MAX_ALLOWED_ROLES, MAX_NAME_LENGTH

TemplateName = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="what hosts pick it by, unique in the server (ignoring case)",
        examples=["Raid night"],
        json_schema_extra=_NOT_BLANK,
    ),
    AfterValidator(_storable_text),
]
AllowedRoles = Annotated[
    list[Snowflake],
    Field(
        max_length=MAX_ALLOWED_ROLES,
        description="host roles that may use it; [] (the default): every host",
    ),
]
REMINDERS_DESCRIPTION = "minutes before the start; null: the server's default; [] for none"


class _TemplateFields(_Request):
    channel_id: Snowflake | None = None
    title: Title | None = None
    description: Description | None = None
    where: ShortText | None = None
    max_players: MaxPlayers | None = None
    expected_duration_minutes: DurationMinutes | None = None
    reminder_minutes: ReminderMinutes | None = Field(
        default=None, description=REMINDERS_DESCRIPTION
    )


class TemplateCreate(_TemplateFields):
    """The body of `POST /api/v1/guilds/{guild_id}/templates`."""

    name: TemplateName
    allowed_role_ids: AllowedRoles = Field(default_factory=list)


_NOT_NULL = ("name", "allowed_role_ids")


class TemplateUpdate(_TemplateFields):
    """The body of `PATCH .../templates/{template_id}`: only the fields sent change."""

    model_config = patch_config(_NOT_NULL)

    name: TemplateName | None = None
    allowed_role_ids: AllowedRoles | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent; `name` and `allowed_role_ids` may not be null."""
        return sent_changes(self, _NOT_NULL)


class TemplateOut(BaseModel):
    """A template as the server keeps it."""

    id: uuid.UUID
    guild_id: Snowflake
    name: str
    channel_id: Snowflake | None
    title: str | None
    description: str | None
    where: str | None
    max_players: int | None
    expected_duration_minutes: int | None
    reminder_minutes: list[int] | None = Field(description=REMINDERS_DESCRIPTION)
    allowed_role_ids: list[Snowflake]
    created_at: datetime
    updated_at: datetime


class TemplateListOut(BaseModel):
    """The templates the caller may use (managers: all of them), by name."""

    items: list[TemplateOut]


def template_out(template: GameTemplate) -> TemplateOut:
    """The response body of a template."""
    reminders = template.reminder_minutes
    return TemplateOut(
        id=template.id,
        guild_id=template.guild_id,
        name=template.name,
        channel_id=template.channel_id,
        title=template.title,
        description=template.description,
        where=template.where,
        max_players=template.max_players,
        expected_duration_minutes=template.expected_duration_minutes,
        reminder_minutes=None if reminders is None else list(reminders),
        allowed_role_ids=list(template.allowed_role_ids),
        created_at=template.created_at,
        updated_at=template.updated_at,
    )
