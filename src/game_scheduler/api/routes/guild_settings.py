"""`/api/v1/guilds/{guild_id}/settings`: a server's time zone, host roles and game defaults.

For the admin and the server's managers. A member who does not manage gets 403; someone
who is not a member gets 404, the same as a server the bot is not in.
"""

from __future__ import annotations

from fastapi import APIRouter, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context
from game_scheduler.api.errors import COMMON_RESPONSES, ApiError
from game_scheduler.api.identity import Caller, CurrentCaller
from game_scheduler.api.schemas import Snowflake
from game_scheduler.api.settings_schemas import GuildSettingsOut, GuildSettingsUpdate
from game_scheduler.db.models import GuildSettings
from game_scheduler.games import settings as settings_store

router = APIRouter(
    prefix="/api/v1/guilds/{guild_id}/settings",
    tags=["servers"],
    dependencies=[Security(bearer_scheme)],
)
SETTINGS_RESPONSES = {
    **COMMON_RESPONSES,
    403: {"description": "you do not manage this server, or the CSRF token is missing"},
    404: {"description": "no such server, or you are not a member of it"},
}


def _require_manager(caller: Caller, guild_id: int) -> None:
    rights = caller.rights_in(guild_id)
    if rights is None:
        raise ApiError(404, "guild_not_found", f"no server {guild_id} that you are a member of")
    if not rights.can_manage:
        raise ApiError(
            403,
            "forbidden",
            "only the server's owner and those with Manage Server or Manage Events "
            "may see or change its settings",
        )


def _out(row: GuildSettings) -> GuildSettingsOut:
    return GuildSettingsOut(
        guild_id=row.guild_id,
        timezone=row.timezone,
        host_role_ids=list(row.host_role_ids),
        default_channel_id=row.default_channel_id,
        default_reminder_minutes=(
            list(row.default_reminder_minutes) if row.default_reminder_minutes is not None else None
        ),
        default_duration_minutes=row.default_duration_minutes,
        scheduled_events_enabled=row.scheduled_events_enabled,
        scheduled_events_error=row.scheduled_events_error,
        checkin_enabled=row.checkin_enabled,
        checkin_minutes=row.checkin_minutes,
        release_enabled=row.release_enabled,
        release_minutes=row.release_minutes,
    )


@router.get("", responses=SETTINGS_RESPONSES, summary="Read a server's settings")
def get_guild_settings(
    guild_id: Snowflake, caller: CurrentCaller, context: Context
) -> GuildSettingsOut:
    """The server's settings; defaults until a manager changes one."""
    _require_manager(caller, guild_id)
    with context.session_factory() as session:
        return _out(settings_store.read_guild_settings(session, guild_id))


@router.patch("", responses=SETTINGS_RESPONSES, summary="Change a server's settings")
def update_guild_settings(
    guild_id: Snowflake, body: GuildSettingsUpdate, caller: CurrentCaller, context: Context
) -> GuildSettingsOut:
    """Change the fields sent; new games take the defaults, and host roles apply at once."""
    _require_manager(caller, guild_id)
    with context.session_factory.begin() as session:
        row = settings_store.update_guild_settings(
            session, guild_id, body.changes(), now=context.clock.now()
        )
        return _out(row)
