"""A server's settings page, for its managers: time zone, host roles, game defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from game_scheduler.calendar.tokens import rotate_calendar_token
from game_scheduler.domain.checkin import DEFAULT_CHECKIN_MINUTES, DEFAULT_RELEASE_MINUTES
from game_scheduler.domain.validation import (
    InvalidField,
    check_duration,
    check_reminder_minutes,
    check_snowflake,
)
from game_scheduler.games.settings import update_guild_settings, update_user_settings
from game_scheduler.web.deps import SignedIn, Web, WebContext, posted_form, refuse, server_of
from game_scheduler.web.forms import GameForm
from game_scheduler.web.pages import flash_of, my_cards, render_home, server_defaults
from game_scheduler.web.viewer import ServerAccess, Viewer
from game_scheduler.web.views import zone_names

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class EventsMirror:
    """Whether the server's games become Discord events, and why the bot could not, if so."""

    enabled: bool
    problem: str | None


def _events_of(web: WebContext, guild_id: int, enabled: bool | None = None) -> EventsMirror:
    with web.api.session_factory() as session:
        current = server_defaults(session, guild_id)
        shown = current.scheduled_events_enabled if enabled is None else enabled
        return EventsMirror(enabled=shown, problem=current.scheduled_events_error)


def _manager(viewer: Viewer, guild_id: int) -> ServerAccess:
    server = server_of(viewer, guild_id)
    if not server.rights.can_manage:
        raise refuse("Only the server's managers may change its settings.")
    return server


def _render(
    request: Request,
    web: WebContext,
    viewer: Viewer,
    server: ServerAccess,
    form: GameForm,
    chosen_roles: list[str],
    *,
    events: EventsMirror,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return web.renderer.page(
        request,
        "settings.html",
        status_code=status_code,
        viewer=viewer,
        server=server,
        form=form,
        chosen_roles=chosen_roles,
        zones=zone_names(),
        roles=web.directory.roles(server.guild_id),
        channels=web.directory.channels(server.guild_id),
        events=events,
        flash=flash,
    )


@router.get("/servers/{guild_id}/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, guild_id: int, web: Web, viewer: SignedIn, done: str | None = None
) -> HTMLResponse:
    """The settings form with the server's current values."""
    server = _manager(viewer, guild_id)
    with web.api.session_factory() as session:
        current = server_defaults(session, guild_id)
        form = GameForm(
            values={
                "timezone": current.timezone,
                "default_channel_id": str(current.default_channel_id or ""),
                "default_reminder_minutes": ", ".join(
                    str(m) for m in current.default_reminder_minutes or ()
                ),
                "default_duration_minutes": str(current.default_duration_minutes or ""),
                **_checkin_values(current),
            }
        )
        roles = [str(r) for r in current.host_role_ids]
        events = EventsMirror(current.scheduled_events_enabled, current.scheduled_events_error)
    return _render(request, web, viewer, server, form, roles, events=events, flash=flash_of(done))


CHECKIN_FIELDS = ("checkin_minutes", "release_minutes")


def _checkin_values(current: Any) -> dict[str, str]:
    """The check-in part of the form from the server's row (a row not stored yet: defaults)."""
    return {
        "checkin_enabled": "on" if current.checkin_enabled else "",
        "checkin_minutes": str(current.checkin_minutes or DEFAULT_CHECKIN_MINUTES),
        "release_enabled": "on" if current.release_enabled else "",
        "release_minutes": str(current.release_minutes or DEFAULT_RELEASE_MINUTES),
    }


def _read_checkin(form: GameForm, posted: Any) -> dict[str, Any]:
    """Check-in on or off, and its minutes; ticked boxes are the only ones a browser sends."""
    values: dict[str, Any] = {}
    for flag in ("checkin_enabled", "release_enabled"):
        values[flag] = posted.get(flag) is not None
        form.values[flag] = "on" if values[flag] else ""
    for name in CHECKIN_FIELDS:
        typed = form.values[name].strip()
        if not typed:
            continue  # left empty: unchanged
        if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= 10_080:
            values[name] = int(typed)
        else:
            form.error(name, "must be whole minutes, 1 to 10080")
    return values


def _read(form: GameForm, role_ids: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    zone = form.values["timezone"].strip()
    if zone not in zone_names():
        form.error("timezone", "is not a time zone name I know, e.g. Europe/Berlin")
    values["timezone"] = zone
    values["host_role_ids"] = [int(r) for r in role_ids if r.isascii() and r.isdigit()]
    channel = form.values["default_channel_id"].strip()
    values["default_channel_id"] = None
    if channel:
        try:
            values["default_channel_id"] = check_snowflake("default_channel_id", int(channel))
        except (ValueError, InvalidField):
            form.error("default_channel_id", "must be a Discord channel id")
    minutes_text = form.values["default_reminder_minutes"].replace(";", ",")
    parts = [p.strip() for p in minutes_text.split(",") if p.strip()]
    values["default_reminder_minutes"] = None
    if parts:
        try:
            values["default_reminder_minutes"] = check_reminder_minutes([int(p) for p in parts])
        except ValueError as exc:
            reason = exc.reason if isinstance(exc, InvalidField) else "must be whole minutes"
            form.error("default_reminder_minutes", reason)
    duration = form.values["default_duration_minutes"].strip()
    values["default_duration_minutes"] = None
    if duration:
        try:
            values["default_duration_minutes"] = check_duration(int(duration))
        except ValueError as exc:
            reason = exc.reason if isinstance(exc, InvalidField) else "must be a whole number"
            form.error("default_duration_minutes", reason)
    return values


@router.post("/servers/{guild_id}/settings")
async def save_settings(request: Request, guild_id: int, web: Web, viewer: SignedIn) -> Response:
    """Save the server's settings, or show the form again with what was wrong."""
    posted = await posted_form(request, viewer)
    server = _manager(viewer, guild_id)
    names = ("timezone", "default_channel_id", "default_reminder_minutes")
    fields = (*names, "default_duration_minutes", *CHECKIN_FIELDS)
    form = GameForm(values={n: str(posted.get(n) or "") for n in fields})
    role_ids = [str(r) for r in posted.getlist("host_role_ids")]
    values = {**_read(form, role_ids), **_read_checkin(form, posted)}
    # A checkbox: a browser sends it only when it is ticked.
    values["scheduled_events_enabled"] = posted.get("scheduled_events_enabled") is not None
    events = await run_in_threadpool(_events_of, web, guild_id, values["scheduled_events_enabled"])
    if form.errors:
        return _render(request, web, viewer, server, form, role_ids, events=events, status_code=422)

    def save() -> bool:
        try:
            with web.api.session_factory.begin() as session:
                update_guild_settings(session, guild_id, values, now=web.api.clock.now())
        except InvalidField as exc:  # the transaction rolled back: nothing changed
            form.error(exc.field, exc.reason)
            return False
        return True

    if not await run_in_threadpool(save):
        return _render(request, web, viewer, server, form, role_ids, events=events, status_code=422)
    return RedirectResponse(f"/servers/{guild_id}/settings?done=settings", status_code=303)


async def _save_mine(
    web: WebContext, viewer: Viewer, changes: dict[str, Any], done: str
) -> Response:
    """Save the viewer's own settings, then back to the home page saying what was done."""

    def save() -> None:
        with web.api.session_factory.begin() as session:
            update_user_settings(session, viewer.user_id, changes, now=web.api.clock.now())

    await run_in_threadpool(save)
    return RedirectResponse(f"/?done={done}", status_code=303)


@router.post("/me/timezone")
async def save_my_zone(request: Request, web: Web, viewer: SignedIn) -> Response:
    """Save the zone I read and type times in (empty: each server's own)."""
    posted = await posted_form(request, viewer)
    typed = str(posted.get("timezone") or "").strip()
    if typed and typed not in zone_names():
        message = "is not a time zone name I know, e.g. Europe/Berlin"
        cards = await run_in_threadpool(my_cards, web, viewer)
        return render_home(
            request, web, viewer, cards, typed_zone=typed, zone_error=message, status_code=422
        )
    return await _save_mine(web, viewer, {"timezone": typed or None}, "zone")


@router.post("/me/reminders")
async def save_my_reminders(request: Request, web: Web, viewer: SignedIn) -> Response:
    """Turn my reminder DMs on or off (an unchecked box is not sent: off)."""
    posted = await posted_form(request, viewer)
    wanted = posted.get("dm_reminders") == "on"
    return await _save_mine(web, viewer, {"dm_reminders": wanted}, "reminders")


@router.post("/me/calendar-token")
async def new_calendar_link(request: Request, web: Web, viewer: SignedIn) -> Response:
    """Give me a new calendar feed URL; the old one answers 404 from now on."""
    await posted_form(request, viewer)

    def rotate() -> None:
        with web.api.session_factory.begin() as session:
            rotate_calendar_token(session, viewer.user_id)

    await run_in_threadpool(rotate)
    return RedirectResponse("/?done=calendar", status_code=303)
