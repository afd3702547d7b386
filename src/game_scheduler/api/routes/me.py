"""`/api/v1/me`: the signed-in person, their servers and rights, and their own settings."""

from __future__ import annotations

from fastapi import APIRouter, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context
from game_scheduler.api.errors import COMMON_RESPONSES, ApiError
from game_scheduler.api.identity import Caller, CurrentCaller
from game_scheduler.api.settings_schemas import GuildAccessOut, MeOut, MeUpdate
from game_scheduler.calendar.links import personal_feed_url
from game_scheduler.db.models import UserSettings
from game_scheduler.games import settings as settings_store

router = APIRouter(prefix="/api/v1/me", tags=["me"], dependencies=[Security(bearer_scheme)])

ME_RESPONSES = {
    **COMMON_RESPONSES,
    403: {"description": "the admin token is not a person, or the CSRF token is missing"},
}


def _person(caller: Caller) -> int:
    if caller.is_admin or caller.user_id is None:
        raise ApiError(
            403, "not_a_person", "the admin token belongs to no Discord user; log in to use /me"
        )
    return caller.user_id


def _me_out(caller: Caller, row: UserSettings, public_url: str) -> MeOut:
    assert caller.user_id is not None  # a person: _person() checked
    assert row.calendar_token is not None  # user_settings() always makes one
    return MeOut(
        user_id=caller.user_id,
        username=caller.username or str(caller.user_id),
        timezone=row.timezone,
        dm_reminders=row.dm_reminders,
        calendar_url=personal_feed_url(public_url, row.calendar_token),
        csrf_token=caller.csrf_token or "",
        guilds=[
            GuildAccessOut(
                guild_id=g.guild_id, name=g.name, can_host=g.can_host, can_manage=g.can_manage
            )
            for g in caller.guilds()
        ],
    )


@router.get("", responses=ME_RESPONSES, summary="Who am I")
def get_me(caller: CurrentCaller, context: Context) -> MeOut:
    """The signed-in person, their settings, CSRF token and servers with their rights."""
    user_id = _person(caller)
    with context.session_factory.begin() as session:
        row = settings_store.user_settings(session, user_id)
        return _me_out(caller, row, context.settings.public_url)


@router.patch("", responses=ME_RESPONSES, summary="Change my settings")
def update_me(body: MeUpdate, caller: CurrentCaller, context: Context) -> MeOut:
    """Change my time zone or DM reminders, or get a new calendar URL."""
    user_id = _person(caller)
    with context.session_factory.begin() as session:
        row = settings_store.update_user_settings(
            session,
            user_id,
            body.settings_changes(),
            now=context.clock.now(),
            rotate_calendar_token=body.rotate_calendar_token,
        )
        return _me_out(caller, row, context.settings.public_url)
