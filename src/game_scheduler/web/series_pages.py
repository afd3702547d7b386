"""The dashboard's series: what a game's page shows of its series, skipping one, ending it.

A game that is an occurrence of a series shows the rule in words, the next start times
and, for the series' host and the server's managers, "Skip this one" and "End series".
Every change checks the form's CSRF token, then the rule book, then calls
`games/series.py` in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from game_scheduler.db.models import GameSeries, GameSession
from game_scheduler.domain.permissions import may_edit_series
from game_scheduler.domain.rule_words import describe_rule
from game_scheduler.domain.status import GameStatus
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games import series as series_service
from game_scheduler.games.errors import GameError, SeriesNotFound
from game_scheduler.web.deps import (
    NOT_FOUND,
    PageError,
    SignedIn,
    Web,
    posted_form,
    refuse,
    server_of,
    visible_game,
    zone_for,
)
from game_scheduler.web.viewer import ServerAccess, Viewer
from game_scheduler.web.views import show_time

router = APIRouter(include_in_schema=False)
NEXT_SHOWN = 4
NOT_ALLOWED = "Only the series' host and the server's managers may change the series."


@dataclass(frozen=True)
class SeriesView:
    """A game's series as its page shows it."""

    series_id: uuid.UUID
    rule: str  # in words, in the series' zone
    active: bool
    next_times: tuple[str, ...]  # in the viewer's zone
    may_skip: bool  # this occurrence
    may_end: bool


def series_view(
    session: Session,
    viewer: Viewer,
    server: ServerAccess,
    game: GameSession,
    zone: ZoneInfo,
    now: datetime,
) -> SeriesView | None:
    """The series the game belongs to, for this viewer; None for a one-off game."""
    if game.series_id is None:
        return None
    series = series_service.get_series(session, game.series_id)
    may_change = may_edit_series(viewer.user_id, server.rights, series.host_id) and series.active
    upcoming = series_service.upcoming_occurrences(session, series, now=now, count=NEXT_SHOWN)
    return SeriesView(
        series_id=series.id,
        rule=describe_rule(series.rrule, series.local_start, series.timezone),
        active=series.active,
        next_times=tuple(show_time(t, zone) for t in upcoming),
        may_skip=may_change and game.status == GameStatus.SCHEDULED and game.scheduled_at > now,
        may_end=may_change,
    )


def _changeable_series(
    session: Session, viewer: Viewer, series_id: uuid.UUID, *, for_update: bool = False
) -> GameSeries:
    try:
        series = series_service.get_series(session, series_id, for_update=for_update)
    except SeriesNotFound:
        raise NOT_FOUND from None
    server = server_of(viewer, series.guild_id)
    if not may_edit_series(viewer.user_id, server.rights, series.host_id):
        raise refuse(NOT_ALLOWED)
    return series


def _refused(exc: GameError | InvalidField) -> PageError:
    if isinstance(exc, InvalidField):
        message = f"This game {exc.reason}"
    else:
        message = str(exc)[:1].upper() + str(exc)[1:]
    return PageError(409, "That did not work", f"{message}; nothing was changed.")


@router.post("/games/{game_id}/skip")
async def skip_this_one(
    request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn
) -> Response:
    """Skip this occurrence of its series: the game is cancelled, the others stay."""
    await posted_form(request, viewer)

    def skip() -> Response:
        with web.api.session_factory.begin() as session:
            game, _ = visible_game(session, viewer, game_id)
            if game.series_id is None or game.series_occurrence_at is None:
                raise PageError(409, "Not a series", "This game does not repeat.")
            _changeable_series(session, viewer, game.series_id, for_update=True)
            try:
                series_service.skip_occurrence(
                    session, game.series_id, game.series_occurrence_at, now=web.api.clock.now()
                )
            except (GameError, InvalidField) as exc:
                raise _refused(exc) from None
        return RedirectResponse(f"/games/{game_id}?done=skipped", status_code=303)

    return await run_in_threadpool(skip)


@router.get("/series/{series_id}/end", response_class=HTMLResponse)
def end_page(request: Request, series_id: uuid.UUID, web: Web, viewer: SignedIn) -> HTMLResponse:
    """The confirm step before ending a series."""
    with web.api.session_factory() as session:
        series = _changeable_series(session, viewer, series_id)
        zone = zone_for(session, viewer, series.guild_id)
        upcoming = series_service.upcoming_occurrences(
            session, series, now=web.api.clock.now(), count=NEXT_SHOWN
        )
        return web.renderer.page(
            request,
            "series_end.html",
            viewer=viewer,
            series_id=series.id,
            title=series.title,
            rule=describe_rule(series.rrule, series.local_start, series.timezone),
            next_times=[show_time(t, zone) for t in upcoming],
            back=f"/servers/{series.guild_id}",
        )


@router.post("/series/{series_id}/end")
async def end(request: Request, series_id: uuid.UUID, web: Web, viewer: SignedIn) -> Response:
    """End the series: its games that have not started are cancelled."""
    await posted_form(request, viewer)

    def finish() -> Response:
        with web.api.session_factory.begin() as session:
            series = _changeable_series(session, viewer, series_id, for_update=True)
            try:
                series_service.end_series(session, series.id, now=web.api.clock.now())
            except GameError as exc:
                raise PageError(409, "That did not work", f"{exc}.") from None
            guild_id = series.guild_id
        return RedirectResponse(f"/servers/{guild_id}?done=ended", status_code=303)

    return await run_in_threadpool(finish)
