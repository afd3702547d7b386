"""A server's templates page, for its managers: the presets new games start from.

Lists the templates, makes one from a form (the game form's fields, a name, and the host
roles that may use it) and deletes one. Hosts use templates on the create form ("Start
from template"); who may use which is the rule book's `may_use_template`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from game_scheduler.db.models import GameTemplate
from game_scheduler.domain.permissions import may_manage_templates
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games import templates as template_store
from game_scheduler.games.errors import TemplateNameTaken, TemplateNotFound
from game_scheduler.web import forms
from game_scheduler.web.deps import (
    NOT_FOUND,
    SignedIn,
    Web,
    WebContext,
    posted_form,
    refuse,
    server_of,
)
from game_scheduler.web.pages import flash_of
from game_scheduler.web.viewer import ServerAccess, Viewer
from game_scheduler.web.views import REMINDER_CHOICES, show_minutes

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class TemplateLine:
    """A template as the list shows it."""

    template_id: uuid.UUID
    name: str
    summary: str


def _line(template: GameTemplate, names: dict[int, str]) -> TemplateLine:
    parts = [template.title or "no title (the host gives one)"]
    if template.channel_id is not None:
        parts.append("#" + names.get(template.channel_id, str(template.channel_id)))
    if template.max_players is not None:
        parts.append(f"{template.max_players} seats")
    if template.expected_duration_minutes is not None:
        parts.append(show_minutes(template.expected_duration_minutes))
    if template.reminder_minutes is not None:
        shown = ", ".join(show_minutes(m) for m in template.reminder_minutes) or "none"
        parts.append(f"reminders: {shown}")
    roles = [names.get(r, str(r)) for r in template.allowed_role_ids]
    parts.append("for: " + ", ".join(roles) if roles else "for every host")
    return TemplateLine(template.id, template.name, " · ".join(parts))


def _manager(viewer: Viewer, guild_id: int) -> ServerAccess:
    server = server_of(viewer, guild_id)
    if not may_manage_templates(server.rights):
        raise refuse("Only the server's managers may change its templates.")
    return server


def _render(
    request: Request,
    web: WebContext,
    viewer: Viewer,
    server: ServerAccess,
    form: forms.GameForm,
    chosen_roles: list[str],
    *,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    roles = web.directory.roles(server.guild_id)
    channels = web.directory.channels(server.guild_id)
    names = {r.id: r.name for r in roles} | {c.id: c.name for c in channels}
    with web.api.session_factory() as session:
        lines = [_line(t, names) for t in template_store.list_templates(session, server.guild_id)]
    return web.renderer.page(
        request,
        "templates.html",
        status_code=status_code,
        viewer=viewer,
        server=server,
        form=form,
        templates=lines,
        roles=roles,
        chosen_roles=chosen_roles,
        channels=channels,
        reminder_choices=REMINDER_CHOICES,
        flash=flash,
    )


@router.get("/servers/{guild_id}/templates", response_class=HTMLResponse)
def templates_page(
    request: Request, guild_id: int, web: Web, viewer: SignedIn, done: str | None = None
) -> HTMLResponse:
    """The server's templates and the form for a new one."""
    server = _manager(viewer, guild_id)
    return _render(request, web, viewer, server, forms.GameForm(), [], flash=flash_of(done))


@router.post("/servers/{guild_id}/templates", response_model=None)
async def create_template(
    request: Request, guild_id: int, web: Web, viewer: SignedIn
) -> HTMLResponse | RedirectResponse:
    """Make a template from the form, or show the form again with what was wrong."""
    posted = await posted_form(request, viewer)
    server = _manager(viewer, guild_id)
    form = forms.read_form(posted)
    roles = [str(r) for r in posted.getlist("allowed_role_ids")]

    def create() -> HTMLResponse | RedirectResponse:
        body = forms.to_template(form, roles)
        if body is not None:
            fields = {name: getattr(body, name) for name in type(body).model_fields}
            try:
                with web.api.session_factory.begin() as session:
                    template_store.create_template(
                        session,
                        template_store.NewTemplate(guild_id=guild_id, **fields),
                        now=web.api.clock.now(),
                    )
                return RedirectResponse(
                    f"/servers/{guild_id}/templates?done=template", status_code=303
                )
            except InvalidField as exc:
                form.refuse(exc)
            except TemplateNameTaken:
                form.error("name", "another template of this server has this name")
        return _render(request, web, viewer, server, form, roles, status_code=422)

    return await run_in_threadpool(create)


@router.post("/servers/{guild_id}/templates/{template_id}/delete")
async def delete_template(
    request: Request, guild_id: int, template_id: uuid.UUID, web: Web, viewer: SignedIn
) -> Response:
    """Delete a template; games made from it stay as they are."""
    await posted_form(request, viewer)
    _manager(viewer, guild_id)

    def delete() -> Response:
        try:
            with web.api.session_factory.begin() as session:
                template_store.delete_template(session, guild_id, template_id)
        except TemplateNotFound:
            raise NOT_FOUND from None
        return RedirectResponse(
            f"/servers/{guild_id}/templates?done=template_deleted", status_code=303
        )

    return await run_in_threadpool(delete)
