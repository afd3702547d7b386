"""`/api/v1/series`: create, read, edit, skip and end repeating games.

Each handler is one transaction of `games/series.py`: a series and the occurrences it
makes into games (with their schedule rows and outbox events) commit together or not
at all. Occurrences that exist as games are listed by `GET /api/v1/games?series_id=`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context
from game_scheduler.api.errors import COMMON_RESPONSES, some_changes
from game_scheduler.api.game_access import (
    check_may_create,
    check_may_edit,
    may_see,
    series_ownership,
)
from game_scheduler.api.identity import CurrentCaller
from game_scheduler.api.posting_check import PostingChecker
from game_scheduler.api.schemas import ErrorOut
from game_scheduler.api.series_schemas import (
    OccurrencesOut,
    SeriesCreate,
    SeriesOut,
    SeriesUpdate,
    SkipRequest,
    series_out,
)
from game_scheduler.games import series as series_service

MAX_OCCURRENCES = 100

SERIES_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON_RESPONSES,
    404: {"model": ErrorOut, "description": "no such series"},
}

# Who may do what follows the games' rules: hosts create, hosted by themself; the
# series' host and the server's managers change it; non-members get 404.
router = APIRouter(prefix="/api/v1/series", tags=["series"], dependencies=[Security(bearer_scheme)])


@router.post(
    "",
    status_code=201,
    responses=COMMON_RESPONSES,
    summary="Create a repeating game",
    response_description="the new series; its Location header is its URL",
)
def create_series(
    body: SeriesCreate,
    context: Context,
    caller: CurrentCaller,
    response: Response,
    posting: PostingChecker,
) -> SeriesOut:
    """Create a series; its first occurrences become games in the same commit."""
    check_may_create(caller, body.guild_id, body.host_id)
    posting.check(body.channel_id, body.guild_id)  # a channel the bot cannot post in: 422
    fields = {name: getattr(body, name) for name in SeriesCreate.model_fields}
    now = context.clock.now()
    with context.session_factory.begin() as session:
        series = series_service.create_series(session, series_service.NewSeries(**fields), now=now)
        result = series_out(series, series_service.series_preview(session, series, now=now))
    response.headers["Location"] = f"{router.prefix}/{result.id}"
    return result


@router.get("/{series_id}", responses=SERIES_RESPONSES, summary="Read a series")
def get_series(series_id: uuid.UUID, context: Context, caller: CurrentCaller) -> SeriesOut:
    """One series with its next start times."""
    may_see(caller, series_ownership(context.session_factory, series_id))
    with context.session_factory() as session:
        series = series_service.get_series(session, series_id)
        return series_out(
            series, series_service.series_preview(session, series, now=context.clock.now())
        )


@router.patch("/{series_id}", responses=SERIES_RESPONSES, summary="Edit a series")
def update_series(
    series_id: uuid.UUID, body: SeriesUpdate, context: Context, caller: CurrentCaller
) -> SeriesOut:
    """Change the fields sent; future occurrences follow, posted ones keep their players."""
    check_may_edit(caller, series_ownership(context.session_factory, series_id))
    changes = some_changes(body.changes())
    now = context.clock.now()
    with context.session_factory.begin() as session:
        series = series_service.update_series(session, series_id, changes, now=now)
        return series_out(series, series_service.series_preview(session, series, now=now))


@router.delete(
    "/{series_id}",
    responses=SERIES_RESPONSES,
    summary="End a series",
    response_description="the ended series",
)
def end_series(series_id: uuid.UUID, context: Context, caller: CurrentCaller) -> SeriesOut:
    """End the series: occurrences that have not started are cancelled."""
    check_may_edit(caller, series_ownership(context.session_factory, series_id))
    now = context.clock.now()
    with context.session_factory.begin() as session:
        series = series_service.end_series(session, series_id, now=now)
        return series_out(series, [])


@router.get("/{series_id}/occurrences", responses=SERIES_RESPONSES, summary="Next start times")
def list_occurrences(
    series_id: uuid.UUID,
    context: Context,
    caller: CurrentCaller,
    count: Annotated[int, Query(ge=1, le=MAX_OCCURRENCES, description="how many")] = 10,
) -> OccurrencesOut:
    """The next `count` start times (UTC), from the rule in the series' time zone."""
    may_see(caller, series_ownership(context.session_factory, series_id))
    now = context.clock.now()
    with context.session_factory() as session:
        series = series_service.get_series(session, series_id)
        times = series_service.upcoming_occurrences(session, series, now=now, count=count)
        return OccurrencesOut(series_id=series.id, timezone=series.timezone, occurrences=times)


@router.post("/{series_id}/skip", responses=SERIES_RESPONSES, summary="Skip one occurrence")
def skip_occurrence(
    series_id: uuid.UUID, body: SkipRequest, context: Context, caller: CurrentCaller
) -> SeriesOut:
    """Skip one occurrence: its game is cancelled (or never made); the rest stay."""
    check_may_edit(caller, series_ownership(context.session_factory, series_id))
    now = context.clock.now()
    with context.session_factory.begin() as session:
        series = series_service.skip_occurrence(session, series_id, body.occurrence, now=now)
        return series_out(series, series_service.series_preview(session, series, now=now))
