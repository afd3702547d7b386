"""What every dashboard route needs: the viewer, their server, a game they may see, CSRF.

Pages answer people, not programs: a game of a server the viewer is not in is the same
404 page as a game that does not exist, and a refused form says why in words.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from game_scheduler.api.deps import ApiContext
from game_scheduler.db.models import GameSession, GuildSettings
from game_scheduler.games import service
from game_scheduler.games.errors import GameNotFound
from game_scheduler.web.render import Renderer
from game_scheduler.web.viewer import Directory, ServerAccess, Viewer
from game_scheduler.web.views import viewer_zone

ViewerSource = Callable[[Request], Viewer | None]


@dataclass(frozen=True)
class WebContext:
    """The dashboard's wiring, built once by `install_dashboard`."""

    api: ApiContext
    renderer: Renderer
    directory: Directory
    viewer_of: ViewerSource


class PageError(Exception):
    """A page a person gets instead of what they asked for: 404, 403, a stale form."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.heading = heading
        self.message = message


class SignInNeeded(Exception):
    """The page needs a signed-in person; they are sent to sign in."""


NOT_FOUND = PageError(
    404, "Not found", "There is no such game or server, or you are not a member of its server."
)


def get_web(request: Request) -> WebContext:
    """The dashboard context stored on the app."""
    web: WebContext = request.app.state.web
    return web


Web = Annotated[WebContext, Depends(get_web)]


def optional_viewer(request: Request, web: Web) -> Viewer | None:
    """The signed-in person, or None."""
    return web.viewer_of(request)


def required_viewer(request: Request, web: Web) -> Viewer:
    """The signed-in person; others are sent to sign in."""
    viewer = web.viewer_of(request)
    if viewer is None:
        raise SignInNeeded
    return viewer


MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]
SignedIn = Annotated[Viewer, Depends(required_viewer)]


def server_of(viewer: Viewer, guild_id: int) -> ServerAccess:
    """The viewer's access to a server; the 404 page when they are not in it."""
    server = viewer.server(guild_id)
    if server is None:
        raise NOT_FOUND
    return server


def server_zone(session: Session, guild_id: int) -> str | None:
    """The server's time zone setting, None when it has none."""
    settings = session.get(GuildSettings, guild_id)
    return settings.timezone if settings is not None else None


def zone_for(session: Session, viewer: Viewer, guild_id: int) -> ZoneInfo:
    """The zone the viewer reads this server's times in."""
    return viewer_zone(viewer, server_zone(session, guild_id))


def visible_game(
    session: Session, viewer: Viewer, game_id: uuid.UUID, *, for_update: bool = False
) -> tuple[GameSession, ServerAccess]:
    """A game of a server the viewer is in, with their access there; the 404 page otherwise."""
    try:
        game = service.get_game(session, game_id, for_update=for_update)
    except GameNotFound:
        raise NOT_FOUND from None
    return game, server_of(viewer, game.guild_id)


def check_csrf(viewer: Viewer, sent: object) -> None:
    """Refuse a form without this viewer's CSRF token: it changes nothing."""
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), viewer.csrf_token.encode()
    ):
        raise PageError(
            403,
            "This form has expired",
            "The form was not sent from this dashboard page, or your session changed. "
            "Nothing was changed: reload the page and try again.",
        )


async def posted_form(request: Request, viewer: Viewer) -> FormData:
    """The form a viewer sent, once its CSRF token is checked."""
    posted = await request.form()
    check_csrf(viewer, posted.get("csrf_token"))
    return posted


def refuse(message: str) -> PageError:
    """The 403 page: the viewer may not do this here."""
    return PageError(403, "Not allowed", message)
