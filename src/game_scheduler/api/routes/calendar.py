"""Calendar feeds and "Add to calendar": open routes whose secret is in the URL.

- `GET /calendar/<token>.ics`: the person's games across their servers.
- `GET /calendar/<token>/guilds/<guild id>.ics`: all games of one of their servers.
- `GET /calendar/games/<game id>.ics` and `/calendar/games/<game id>/google`: one game,
  as a file or as Google Calendar's form (the game's random id is the key, as the
  message that links to it is visible only in its channel).

Every feed answers with an ETag and honours If-None-Match with 304, so a calendar client
polling every few minutes costs one query and no body. A token that opens nothing, for
whatever reason, answers the same 404 in the same time. When Discord cannot say who is
a member, feeds answer 503 with Retry-After: calendar clients keep what they had, and
no server's games are shown on a guess.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from game_scheduler.api.deps import ApiContext, Context
from game_scheduler.api.errors import error_response
from game_scheduler.api.schemas import ErrorOut
from game_scheduler.calendar import feeds, tokens
from game_scheduler.calendar.ics import CalendarEntry, etag_matches, etag_of
from game_scheduler.calendar.links import google_calendar_url
from game_scheduler.calendar.membership import MemberGuilds

router = APIRouter(prefix="/calendar", tags=["calendar"])
T = TypeVar("T")

ICS_TYPE = "text/calendar; charset=utf-8"
_FEED_HEADERS = {
    # Clients revalidate with If-None-Match; the secret URL must not leak through referrers.
    "Cache-Control": "private, max-age=0, must-revalidate",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


_NOT_FOUND: dict[str, object] = {"model": ErrorOut, "description": "no calendar at this address"}
FEED_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/calendar": {}}, "description": "the calendar (RFC 5545)"},
    304: {"description": "unchanged since the ETag in If-None-Match"},
    404: _NOT_FOUND,
}
REDIRECT_RESPONSES: dict[int | str, dict[str, object]] = {
    302: {"description": "on to Google Calendar's form"},
    404: _NOT_FOUND,
}


def member_guilds_of(request: Request) -> MemberGuilds:
    """The membership source `create_app` chose: what Discord reports to the bot."""
    source: MemberGuilds = request.app.state.member_guilds
    return source


def _not_found() -> Response:
    # One answer for malformed, unknown, rotated and not-a-member: no hint which it was.
    return error_response(404, "not_found", "no calendar at this address")


def _ics(body: bytes, if_none_match: str | None, filename: str) -> Response:
    etag = etag_of(body)
    headers = {**_FEED_HEADERS, "ETag": etag}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(content=body, media_type=ICS_TYPE, headers=headers)


def _links(context: ApiContext) -> feeds.FeedLinks:
    return feeds.FeedLinks(public_url=context.settings.public_url)


async def _in_session(context: ApiContext, work: Callable[[Session], T]) -> T:
    def run() -> T:
        with context.session_factory.begin() as session:
            return work(session)

    return await run_in_threadpool(run)


@router.get(
    "/{token}.ics",
    summary="A person's calendar feed",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def person_feed(
    token: str,
    request: Request,
    context: Context,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Every game the token's owner hosts or joined, in the servers they are still in."""
    user_id = await _in_session(context, lambda s: tokens.user_for_token(s, token))
    if user_id is None:
        return _not_found()
    candidates = await _in_session(context, lambda s: feeds.guilds_of_person(s, user_id))
    member_of = await member_guilds_of(request)(user_id, candidates)
    now = context.clock.now()
    body = await _in_session(
        context, lambda s: feeds.person_feed(s, user_id, member_of, _links(context), now=now)
    )
    return _ics(body, if_none_match, "games.ics")


@router.get(
    "/{token}/guilds/{guild_id}.ics",
    summary="A server's calendar feed",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def guild_feed(
    token: str,
    guild_id: str,
    request: Request,
    context: Context,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Every game of one server, for a member of it who holds their own feed token."""
    user_id = await _in_session(context, lambda s: tokens.user_for_token(s, token))
    if user_id is None or not guild_id.isdigit() or len(guild_id) > 20:
        return _not_found()
    guild = int(guild_id)
    if guild not in await member_guilds_of(request)(user_id, {guild}):
        return _not_found()
    now = context.clock.now()
    body = await _in_session(
        context, lambda s: feeds.guild_feed(s, guild, _links(context), now=now)
    )
    return _ics(body, if_none_match, f"server-{guild}.ics")


async def _game_entry(context: ApiContext, game_id: str) -> CalendarEntry | None:
    try:
        parsed = uuid.UUID(game_id)
    except ValueError:
        return None
    return await _in_session(context, lambda s: feeds.game_entry(s, parsed, _links(context)))


@router.get(
    "/games/{game_id}.ics",
    summary="One game as a .ics file",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def game_ics(
    game_id: str,
    context: Context,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One game, for "Add to calendar" on its message and its page."""
    entry = await _game_entry(context, game_id)
    if entry is None:
        return _not_found()
    return _ics(feeds.game_calendar(entry), if_none_match, "game.ics")


@router.get(
    "/games/{game_id}/google",
    summary="One game in Google Calendar",
    response_class=Response,
    responses=REDIRECT_RESPONSES,
)
async def game_google(game_id: str, context: Context) -> Response:
    """Send the person to Google Calendar's form, filled in with the game."""
    entry = await _game_entry(context, game_id)
    if entry is None:
        return _not_found()
    return RedirectResponse(google_calendar_url(entry), status_code=302, headers=_FEED_HEADERS)
