"""`/api/v1/games`: create, list, read, edit and cancel games.

Handlers are plain `def`: FastAPI runs them in its threadpool, and each one is a single
transaction of the game service, so a request either changes the game, its schedule rows
and its outbox event together, or changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context, decode_cursor, encode_cursor
from game_scheduler.api.errors import (
    COMMON_RESPONSES,
    CONFLICT_RESPONSES,
    GAME_RESPONSES,
    some_changes,
)
from game_scheduler.api.game_access import check_may_create, check_may_edit, may_see, ownership
from game_scheduler.api.identity import CurrentCaller
from game_scheduler.api.posting_check import PostingChecker, where_game_posts
from game_scheduler.api.schemas import (
    GameCreate,
    GameOut,
    GamePageOut,
    GameUpdate,
    Snowflake,
    game_out,
)
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.games import settings as settings_store

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

router = APIRouter(prefix="/api/v1/games", tags=["games"], dependencies=[Security(bearer_scheme)])


@router.post(
    "",
    status_code=201,
    responses=COMMON_RESPONSES,
    summary="Create a game",
    response_description="the new game; its Location header is its URL",
)
def create_game(
    body: GameCreate,
    context: Context,
    caller: CurrentCaller,
    response: Response,
    posting: PostingChecker,
) -> GameOut:
    """Create a game; its reminders and status changes are scheduled in the same commit."""
    check_may_create(caller, body.guild_id, body.host_id)
    posting.check(body.channel_id, body.guild_id)  # a channel the bot cannot post in: 422
    fields = {name: getattr(body, name) for name in GameCreate.model_fields}
    with context.session_factory.begin() as session:
        # What the request leaves out, the server's settings fill in.
        defaults = settings_store.read_guild_settings(session, body.guild_id)
        if (
            "reminder_minutes" not in body.model_fields_set
            and defaults.default_reminder_minutes is not None
        ):
            fields["reminder_minutes"] = list(defaults.default_reminder_minutes)
        if "expected_duration_minutes" not in body.model_fields_set:
            fields["expected_duration_minutes"] = defaults.default_duration_minutes
        fields["server_checkin"] = "checkin_minutes" not in body.model_fields_set
        game = service.create_game(session, service.NewGame(**fields), now=context.clock.now())
        result = game_out(game, service.roster_of(game))
    response.headers["Location"] = f"{router.prefix}/{result.id}"
    return result


@router.get("", responses=COMMON_RESPONSES, summary="List games")
def list_games(
    context: Context,
    caller: CurrentCaller,
    guild_id: Annotated[Snowflake | None, Query(description="only this guild's games")] = None,
    status: Annotated[GameStatus | None, Query(description="only games in this status")] = None,
    series_id: Annotated[
        uuid.UUID | None, Query(description="only this series' occurrences")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
) -> GamePageOut:
    """Games by start time (then id), a page at a time; follow `next_cursor` for more."""
    after = decode_cursor(cursor) if cursor is not None else None
    # A person sees only the games of servers they are a member of; the admin sees all.
    visible = None if caller.is_admin else caller.member_guild_ids()
    with context.session_factory() as session:
        page = service.list_games(
            session,
            guild_id=guild_id,
            status=status.value if status is not None else None,
            series_id=series_id,
            limit=limit,
            after=after,
            guild_ids=visible,
        )
        items = [game_out(game, service.roster_of(game)) for game in page.games]
    next_cursor = encode_cursor(page.next_cursor) if page.next_cursor is not None else None
    return GamePageOut(items=items, next_cursor=next_cursor)


@router.get("/{game_id}", responses=GAME_RESPONSES, summary="Read a game")
def get_game(game_id: uuid.UUID, context: Context, caller: CurrentCaller) -> GameOut:
    """One game with its confirmed players and waitlist."""
    may_see(caller, ownership(context.session_factory, game_id))
    with context.session_factory() as session:
        game = service.get_game(session, game_id)
        return game_out(game, service.roster_of(game))


@router.patch("/{game_id}", responses=CONFLICT_RESPONSES, summary="Edit a game")
def update_game(
    game_id: uuid.UUID,
    body: GameUpdate,
    context: Context,
    caller: CurrentCaller,
    posting: PostingChecker,
) -> GameOut:
    """Change the fields sent; a new time or new reminders replace the pending schedule."""
    check_may_edit(caller, ownership(context.session_factory, game_id))
    changes = some_changes(body.changes())
    posting.check(*where_game_posts(context.session_factory, game_id))
    with context.session_factory.begin() as session:
        game = service.update_game(session, game_id, changes, now=context.clock.now())
        return game_out(game, service.roster_of(game))


@router.delete(
    "/{game_id}",
    responses=CONFLICT_RESPONSES,
    summary="Cancel a game",
    response_description="the cancelled game",
)
def cancel_game(
    game_id: uuid.UUID,
    context: Context,
    caller: CurrentCaller,
    reason: Annotated[
        str | None, Query(max_length=500, description="told to the players with the news")
    ] = None,
) -> GameOut:
    """Cancel a game that has not ended; its pending reminders and status changes go."""
    check_may_edit(caller, ownership(context.session_factory, game_id))
    with context.session_factory.begin() as session:
        game = service.cancel_game(
            session,
            game_id,
            now=context.clock.now(),
            cancelled_by=caller.user_id,
            reason=reason,
        )
        return game_out(game, service.roster_of(game))
