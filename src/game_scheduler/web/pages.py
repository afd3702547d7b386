"""The dashboard's pages: home, a server, a game, and the forms to create and edit one.

Reading routes only; whatever changes something is in `actions.py`. Handlers are plain
`def` (FastAPI runs them in its threadpool), each with one short database session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from game_scheduler.calendar import tokens
from game_scheduler.db.models import GameSession, GameTemplate, GuildSettings
from game_scheduler.domain.permissions import may_edit_game
from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.games import templates as template_store
from game_scheduler.games.errors import TemplateNotFound
from game_scheduler.web import forms
from game_scheduler.web.deps import (
    MaybeViewer,
    PageError,
    SignedIn,
    Web,
    WebContext,
    refuse,
    server_of,
    visible_game,
    zone_for,
)
from game_scheduler.web.series_pages import series_view
from game_scheduler.web.viewer import ServerAccess, Viewer
from game_scheduler.web.views import (
    REMINDER_CHOICES,
    REPEAT_CHOICES,
    GameCard,
    game_card,
    game_view,
    show_time,
    zone_names,
)

router = APIRouter(include_in_schema=False)

FLASH = {
    "created": "Game created. The bot is posting it to Discord.",
    "series": "Series created: the bot is posting its next games to Discord.",
    "skipped": "This one is skipped; the series goes on.",
    "ended": "The series has ended; its games that had not started are cancelled.",
    "template": "Template saved. Hosts find it under Start from template.",
    "template_deleted": "Template deleted. Games made from it stay as they are.",
    "saved": "Changes saved. The Discord message follows in a moment.",
    "joined": "You joined the game.",
    "left": "You left the game.",
    "added": "Player added.",
    "removed": "Player removed.",
    "moved": "Player moved up.",
    "cancelled": "Game cancelled. The Discord message says so too.",
    "settings": "Settings saved.",
    "zone": "Your time zone is saved.",
    "reminders": "Your reminder setting is saved.",
    "calendar": "Here is your new calendar link. The old one no longer works: add this one.",
}
SHOW_CHOICES = (("all", "Upcoming and recent"), ("upcoming", "Upcoming"), ("recent", "Recent"))
Done = Annotated[str | None, Query(max_length=20)]


def flash_of(done: str | None) -> str | None:
    """The confirmation line for a redirect's `done`; only our own fixed texts."""
    return FLASH.get(done or "")


def message_url(web: WebContext, game: GameSession) -> str | None:
    """Where the game's Discord message is: discord.com, or its place on the sandbox page."""
    if game.message_id is None:
        return None
    settings = web.api.settings
    if settings.uses_sandbox:
        base = settings.discord_api_base.removesuffix("/").removesuffix("/api/v10")
        return f"{base}/#m{game.message_id}"
    return f"https://discord.com/channels/{game.guild_id}/{game.channel_id}/{game.message_id}"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: Web, viewer: MaybeViewer, done: Done = None) -> HTMLResponse:
    """My upcoming games across servers, and my servers; a welcome page when signed out."""
    if viewer is None:
        return web.renderer.page(request, "signin.html")
    return render_home(request, web, viewer, my_cards(web, viewer), flash=flash_of(done))


def my_cards(web: WebContext, viewer: Viewer) -> list[GameCard]:
    """My upcoming games across my servers, as the home page lists them."""
    servers = {s.guild_id: s for s in viewer.servers}
    with web.api.session_factory() as session:
        games = service.games_of_user(session, viewer.user_id, viewer.guild_ids)
        return [
            game_card(g, viewer, servers[g.guild_id], zone_for(session, viewer, g.guild_id))
            for g in games
        ]


def my_calendar_url(web: WebContext, viewer: Viewer) -> str:
    """The viewer's secret feed URL, its token made on first use."""
    with web.api.session_factory.begin() as session:
        return tokens.calendar_url(session, web.api.settings.public_url, viewer.user_id)


def render_home(
    request: Request,
    web: WebContext,
    viewer: Viewer,
    cards: list[GameCard],
    *,
    flash: str | None = None,
    typed_zone: str | None = None,
    zone_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The home page: my games, my servers, my time zone."""
    return web.renderer.page(
        request,
        "home.html",
        status_code=status_code,
        viewer=viewer,
        cards=cards,
        servers=sorted(viewer.servers, key=lambda s: s.name.lower()),
        flash=flash,
        my_zone=typed_zone if typed_zone is not None else viewer.timezone or "",
        zone_error=zone_error,
        zones=zone_names(),
        calendar_url=my_calendar_url(web, viewer),
    )


@router.get("/servers/{guild_id}", response_class=HTMLResponse)
def server_page(
    request: Request,
    guild_id: int,
    web: Web,
    viewer: SignedIn,
    show: Annotated[str, Query(max_length=20)] = "all",
    q: Annotated[str, Query(max_length=100)] = "",
    done: Done = None,
) -> HTMLResponse:
    """A server's upcoming and recent games, filtered, with New game for hosts."""
    server = server_of(viewer, guild_id)
    show = show if show in dict(SHOW_CHOICES) else "all"
    search = q.strip() or None
    with web.api.session_factory() as session:
        zone = zone_for(session, viewer, guild_id)
        upcoming = service.games_of_guild(session, guild_id, upcoming=True, search=search)
        recent = service.games_of_guild(session, guild_id, upcoming=False, search=search, limit=20)
        context: dict[str, Any] = {
            "upcoming": [game_card(g, viewer, server, zone) for g in upcoming],
            "recent": [game_card(g, viewer, server, zone) for g in recent],
        }
    return web.renderer.page(
        request,
        "server.html",
        viewer=viewer,
        server=server,
        zone_name=zone.key,
        show=show,
        show_choices=SHOW_CHOICES,
        q=q,
        flash=flash_of(done),
        **context,
    )


def render_game(
    request: Request,
    web: WebContext,
    session: Session,
    viewer: Viewer,
    game: GameSession,
    server: ServerAccess,
    *,
    flash: str | None = None,
    placeholder_name: str = "",
    placeholder_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A game's page for this viewer."""
    zone = zone_for(session, viewer, game.guild_id)
    people = {game.host_id, *(p.user_id for p in game.participants if p.user_id)}
    names = web.directory.member_names(game.guild_id, people)
    channels = {c.id: c.name for c in web.directory.channels(game.guild_id)}
    view = game_view(
        game,
        viewer,
        server,
        zone,
        names=names,
        channel_name=channels.get(game.channel_id, str(game.channel_id)),
        message_url=message_url(web, game),
    )
    return web.renderer.page(
        request,
        "game.html",
        status_code=status_code,
        viewer=viewer,
        server=server,
        game=view,
        series=series_view(session, viewer, server, game, zone, web.api.clock.now()),
        flash=flash,
        placeholder_name=placeholder_name,
        placeholder_error=placeholder_error,
    )


@router.get("/games/{game_id}", response_class=HTMLResponse)
def game_page(
    request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn, done: Done = None
) -> HTMLResponse:
    """A game: details, roster, and the buttons this viewer may press."""
    with web.api.session_factory() as session:
        game, server = visible_game(session, viewer, game_id)
        return render_game(request, web, session, viewer, game, server, flash=flash_of(done))


def server_defaults(session: Session, guild_id: int) -> GuildSettings:
    """The server's settings row, or the defaults when it has none yet."""
    return session.get(GuildSettings, guild_id) or GuildSettings(
        guild_id=guild_id, timezone="UTC", host_role_ids=[], scheduled_events_enabled=True
    )


def render_game_form(
    request: Request,
    web: WebContext,
    viewer: Viewer,
    server: ServerAccess,
    form: forms.GameForm,
    *,
    zone_name: str,
    game: GameSession | None = None,
    templates: Sequence[tuple[str, str]] = (),
    chosen_template: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The create or edit form, with what was typed and the errors beside each field.

    A new game's form offers "Repeat" and, given `templates` ((id, name) pairs the viewer
    may use), "Start from template"."""
    channels = web.directory.channels(server.guild_id)
    back = f"/servers/{server.guild_id}" if game is None else f"/games/{game.id}"
    locked = None
    if game is not None:
        locked = next((c.name for c in channels if c.id == game.channel_id), str(game.channel_id))
    return web.renderer.page(
        request,
        "game_form.html",
        status_code=status_code,
        viewer=viewer,
        server=server,
        form=form,
        zone_name=zone_name,
        channels=channels,
        channel_locked=locked,
        reminder_choices=REMINDER_CHOICES,
        repeat_choices=REPEAT_CHOICES if game is None else (),
        templates=templates,
        chosen_template=chosen_template,
        heading="New game" if game is None else f"Edit {game.title}",
        submit="Create game" if game is None else "Save changes",
        action=f"{back}/games/new" if game is None else f"{back}/edit",
        back=back,
    )


@router.get("/servers/{guild_id}/games/new", response_class=HTMLResponse)
def new_game_page(
    request: Request,
    guild_id: int,
    web: Web,
    viewer: SignedIn,
    template: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The form for a new game, with the server's defaults, or a template's values."""
    server = server_of(viewer, guild_id)
    if not server.rights.can_host:
        raise refuse("Only the server's hosts and managers may create games here.")
    with web.api.session_factory() as session:
        defaults = server_defaults(session, guild_id)
        zone = zone_for(session, viewer, guild_id)
        usable = template_store.usable_templates(session, guild_id, server.rights)
        chosen = _chosen_template(session, guild_id, server, template) if template else None
    form = forms.blank_form(
        channel_id=defaults.default_channel_id,
        reminder_minutes=defaults.default_reminder_minutes or service.DEFAULT_REMINDER_MINUTES,
        duration_minutes=defaults.default_duration_minutes,
        checkin_minutes=defaults.checkin_minutes if defaults.checkin_enabled else None,
        release_minutes=(
            defaults.release_minutes
            if defaults.checkin_enabled and defaults.release_enabled
            else None
        ),
    )
    if chosen is not None:
        forms.apply_template(form, template_store.game_values(chosen))
    return render_game_form(
        request,
        web,
        viewer,
        server,
        form,
        zone_name=zone.key,
        templates=[(str(t.id), t.name) for t in usable],
        chosen_template=str(chosen.id) if chosen is not None else "",
    )


def _chosen_template(
    session: Session, guild_id: int, server: ServerAccess, value: str
) -> GameTemplate:
    """The template a new game starts from: this server's, one the viewer may use."""
    try:
        found = template_store.find_template(session, guild_id, value)
    except TemplateNotFound:
        raise PageError(
            404, "No such template", "This server has no such template; choose one from the list."
        ) from None
    if not template_store.may_use(found, server.rights):
        raise refuse("This template is kept for other host roles than yours.")
    return found


@router.get("/games/{game_id}/edit", response_class=HTMLResponse)
def edit_game_page(
    request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn
) -> HTMLResponse:
    """The form to edit a game, filled with its values."""
    with web.api.session_factory() as session:
        game, server = visible_game(session, viewer, game_id)
        if not may_edit_game(viewer.user_id, server.rights, game.host_id):
            raise refuse("Only the game's host and the server's managers may edit it.")
        if game.status not in (GameStatus.SCHEDULED, GameStatus.IN_PROGRESS):
            raise refuse("This game has ended or was cancelled; it can no longer be edited.")
        zone = zone_for(session, viewer, game.guild_id)
        form = forms.form_of(game, zone)
        return render_game_form(request, web, viewer, server, form, zone_name=zone.key, game=game)


@router.get("/games/{game_id}/cancel", response_class=HTMLResponse)
def cancel_page(request: Request, game_id: uuid.UUID, web: Web, viewer: SignedIn) -> HTMLResponse:
    """The confirm step before cancelling a game."""
    with web.api.session_factory() as session:
        game, server = visible_game(session, viewer, game_id)
        if not may_edit_game(viewer.user_id, server.rights, game.host_id):
            raise refuse("Only the game's host and the server's managers may cancel it.")
        zone = zone_for(session, viewer, game.guild_id)
        return web.renderer.page(
            request,
            "cancel.html",
            viewer=viewer,
            game_id=game.id,
            title=game.title,
            when=show_time(game.scheduled_at, zone),
        )
