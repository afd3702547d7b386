"""What the dashboard's forms post: create, edit, join, leave, run the roster, cancel.

Every handler checks the form's CSRF token first, then the rule book, then calls the game
service in one transaction, whose outbox event brings the Discord message along. Success
redirects (post, redirect, get) to a page that says what happened; a refusal changes
nothing and says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from game_scheduler.api.posting_check import PostingCheck, where_game_posts
from game_scheduler.domain.permissions import may_edit_game
from game_scheduler.domain.status import status_label
from game_scheduler.domain.validation import InvalidField, check_scheduled_at
from game_scheduler.games import series as series_service
from game_scheduler.games import service
from game_scheduler.games.errors import (
    AlreadyJoined,
    GameError,
    GameNotFound,
    NotJoined,
    TransitionNotAllowed,
)
from game_scheduler.web import forms
from game_scheduler.web.deps import (
    PageError,
    SignedIn,
    Web,
    WebContext,
    posted_form,
    refuse,
    server_of,
    server_zone,
    visible_game,
    zone_for,
)
from game_scheduler.web.pages import render_game, render_game_form
from game_scheduler.web.viewer import Viewer

router = APIRouter(include_in_schema=False)


def _see(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _conflict(exc: GameError) -> PageError:
    message = str(exc)
    if isinstance(exc, TransitionNotAllowed):
        status = status_label(exc.current).lower()
        message = f"this game is already {status}, so it cannot be cancelled"
    return PageError(409, "That did not work", message[:1].upper() + message[1:] + ".")


@router.post("/servers/{guild_id}/games/new", response_model=None)
async def create_game(
    request: Request, guild_id: int, web: Web, viewer: SignedIn
) -> HTMLResponse | RedirectResponse:
    """Create a game from the form, or show the form again with what was wrong."""
    posted = await posted_form(request, viewer)
    server = server_of(viewer, guild_id)
    if not server.rights.can_host:
        raise refuse("Only the server's hosts and managers may create games here.")
    form = forms.read_form(posted)
    posting: PostingCheck = request.app.state.posting_check

    def create() -> HTMLResponse | RedirectResponse:
        with web.api.session_factory.begin() as session:
            zone = zone_for(session, viewer, guild_id)
            body = forms.to_create(form, guild_id=guild_id, host_id=viewer.user_id, zone=zone)
            if body is not None:
                fields = {name: getattr(body, name) for name in type(body).model_fields}
                fields["server_checkin"] = False  # the form started from the server's
                try:
                    posting.check(body.channel_id, guild_id)  # the API's own check: a 422
                    now = web.api.clock.now()
                    new_series = forms.to_series(
                        form, body, server_zone(session, guild_id) or "UTC"
                    )
                    if new_series is not None:
                        check_scheduled_at(body.scheduled_at, now)
                        series = series_service.create_series(session, new_series, now=now)
                        first = series_service.games_of(session, series.id)[0]
                        return _see(f"/games/{first.id}", "series")
                    game = service.create_game(session, service.NewGame(**fields), now=now)
                    return _see(f"/games/{game.id}", "created")
                except InvalidField as exc:
                    form.refuse(exc)
            return render_game_form(
                request, web, viewer, server, form, zone_name=zone.key, status_code=422
            )

    return await run_in_threadpool(create)


@router.post("/games/{game_id}/edit", response_model=None)
async def edit_game(
    request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn
) -> HTMLResponse | RedirectResponse:
    """Save the edit form's changes, or show it again with what was wrong."""
    posted = await posted_form(request, viewer)
    form = forms.read_form(posted)
    posting: PostingCheck = request.app.state.posting_check

    def save() -> HTMLResponse | RedirectResponse:
        # Asked of Discord before the game's row is locked; said only if an edit is made.
        cannot_post: InvalidField | None = None
        try:
            posting.check(*where_game_posts(web.api.session_factory, game_id))
        except InvalidField as exc:
            cannot_post = exc
        except GameNotFound:
            pass  # visible_game below answers the 404 page
        with web.api.session_factory.begin() as session:
            game, server = visible_game(session, viewer, game_id, for_update=True)
            if not may_edit_game(viewer.user_id, server.rights, game.host_id):
                raise refuse("Only the game's host and the server's managers may edit it.")
            zone = zone_for(session, viewer, game.guild_id)
            changes = forms.to_changes(form, game, zone)
            if changes == {}:
                return _see(f"/games/{game.id}", "saved")
            if changes is not None:
                try:
                    if cannot_post is not None:
                        raise cannot_post
                    service.update_game(session, game.id, changes, now=web.api.clock.now())
                    return _see(f"/games/{game.id}", "saved")
                except InvalidField as exc:
                    form.refuse(exc)
                except GameError as exc:
                    raise _conflict(exc) from None
            return render_game_form(
                request, web, viewer, server, form, zone_name=zone.key, game=game, status_code=422
            )

    return await run_in_threadpool(save)


async def _roster_action(
    request: Request,
    web: WebContext,
    viewer: Viewer,
    game_id: uuid.UUID,
    change: Callable[[Session, Any], str],
    *,
    host_only: bool,
) -> Response:
    posted = await posted_form(request, viewer)

    def act() -> Response:
        with web.api.session_factory.begin() as session:
            game, server = visible_game(session, viewer, game_id)
            if host_only and not may_edit_game(viewer.user_id, server.rights, game.host_id):
                raise refuse(
                    "Only the game's host and the server's managers may change the roster."
                )
            try:
                done = change(session, posted)
            except InvalidField as exc:
                # Raised before anything changed: the page comes back with the name kept.
                return render_game(
                    request,
                    web,
                    session,
                    viewer,
                    game,
                    server,
                    placeholder_name=str(posted.get("display_name") or ""),
                    placeholder_error=exc.reason[:1].upper() + exc.reason[1:] + ".",
                    status_code=422,
                )
            except AlreadyJoined:
                done = "joined"  # a second click on Join: already done
            except NotJoined:
                done = "left"
            except GameError as exc:
                raise _conflict(exc) from None
            return _see(f"/games/{game_id}", done)

    return await run_in_threadpool(act)


@router.post("/games/{game_id}/join")
async def join(request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn) -> Response:
    """Join a game as myself."""

    def change(session: Session, posted: Any) -> str:
        service.join_game(session, game_id, viewer.user_id, now=web.api.clock.now())
        return "joined"

    return await _roster_action(request, web, viewer, game_id, change, host_only=False)


@router.post("/games/{game_id}/leave")
async def leave(request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn) -> Response:
    """Leave a game I joined."""

    def change(session: Session, posted: Any) -> str:
        service.leave_game(session, game_id, viewer.user_id, now=web.api.clock.now())
        return "left"

    return await _roster_action(request, web, viewer, game_id, change, host_only=False)


@router.post("/games/{game_id}/placeholders")
async def add_placeholder(
    request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn
) -> Response:
    """Hold a seat for someone who is not on Discord."""

    def change(session: Session, posted: Any) -> str:
        name = str(posted.get("display_name") or "")
        if len(name) > 100:
            raise InvalidField("display_name", "must be at most 100 characters")
        service.add_placeholder(session, game_id, name, now=web.api.clock.now())
        return "added"

    return await _roster_action(request, web, viewer, game_id, change, host_only=True)


@router.post("/games/{game_id}/players/{participant_id}/remove")
async def remove_player(
    request: Request, game_id: uuid.UUID, participant_id: uuid.UUID, web: Web, viewer: SignedIn
) -> Response:
    """Take a player off the roster."""

    def change(session: Session, posted: Any) -> str:
        service.remove_participant(session, game_id, participant_id, now=web.api.clock.now())
        return "removed"

    return await _roster_action(request, web, viewer, game_id, change, host_only=True)


@router.post("/games/{game_id}/players/{participant_id}/up")
async def move_player_up(
    request: Request, game_id: uuid.UUID, participant_id: uuid.UUID, web: Web, viewer: SignedIn
) -> Response:
    """Move a player one place up the roster."""

    def change(session: Session, posted: Any) -> str:
        service.move_up(session, game_id, participant_id, now=web.api.clock.now())
        return "moved"

    return await _roster_action(request, web, viewer, game_id, change, host_only=True)


@router.post("/games/{game_id}/cancel")
async def cancel(request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn) -> Response:
    """Cancel a game, after the confirm step."""

    def change(session: Session, posted: Any) -> str:
        reason = str(posted.get("reason") or "").strip()[:500] or None
        service.cancel_game(
            session, game_id, now=web.api.clock.now(), cancelled_by=viewer.user_id, reason=reason
        )
        return "cancelled"

    return await _roster_action(request, web, viewer, game_id, change, host_only=True)
