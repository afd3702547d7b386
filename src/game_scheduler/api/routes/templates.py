"""`/api/v1/guilds/{guild_id}/templates`: a server's presets that new games start from.

Managers (and the admin) write them. Hosts read those they may use: a template kept for
host roles they do not have is left out of their list and is a 403 to read. A plain
member gets 403, and someone who is not a member 404, as for a server the bot is not in.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context
from game_scheduler.api.errors import COMMON_RESPONSES, ApiError, some_changes
from game_scheduler.api.identity import Caller, CurrentCaller
from game_scheduler.api.schemas import ErrorOut, Snowflake
from game_scheduler.api.template_schemas import (
    TemplateCreate,
    TemplateListOut,
    TemplateOut,
    TemplateUpdate,
    template_out,
)
from game_scheduler.domain.permissions import Rights, may_manage_templates
from game_scheduler.games import templates as template_store

router = APIRouter(
    prefix="/api/v1/guilds/{guild_id}/templates",
    tags=["templates"],
    dependencies=[Security(bearer_scheme)],
)
TEMPLATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON_RESPONSES,
    404: {"model": ErrorOut, "description": "no such template or server, or not a member"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **TEMPLATE_RESPONSES,
    409: {"model": ErrorOut, "description": "another template of the server has this name"},
}


def _rights(caller: Caller, guild_id: int) -> Rights:
    rights = caller.rights_in(guild_id)
    if rights is None:
        raise ApiError(404, "guild_not_found", f"no server {guild_id} that you are a member of")
    return rights


def _require_host(caller: Caller, guild_id: int) -> Rights:
    rights = _rights(caller, guild_id)
    if not rights.can_host:
        raise ApiError(
            403, "forbidden", "only the server's hosts and managers may see its templates"
        )
    return rights


def _require_manager(caller: Caller, guild_id: int) -> None:
    if not may_manage_templates(_rights(caller, guild_id)):
        raise ApiError(
            403,
            "forbidden",
            "only the server's owner and those with Manage Server or Manage Events "
            "may change its templates",
        )


@router.get("", responses=TEMPLATE_RESPONSES, summary="List a server's templates")
def list_templates(guild_id: Snowflake, caller: CurrentCaller, context: Context) -> TemplateListOut:
    """The templates the caller may start a game from, by name."""
    rights = _require_host(caller, guild_id)
    with context.session_factory() as session:
        found = template_store.usable_templates(session, guild_id, rights)
        return TemplateListOut(items=[template_out(t) for t in found])


@router.post(
    "",
    status_code=201,
    responses=WRITE_RESPONSES,
    summary="Create a template",
    response_description="the new template; its Location header is its URL",
)
def create_template(
    guild_id: Snowflake,
    body: TemplateCreate,
    caller: CurrentCaller,
    context: Context,
    response: Response,
) -> TemplateOut:
    """Add a named preset to the server."""
    _require_manager(caller, guild_id)
    fields = {name: getattr(body, name) for name in TemplateCreate.model_fields}
    with context.session_factory.begin() as session:
        template = template_store.create_template(
            session,
            template_store.NewTemplate(guild_id=guild_id, **fields),
            now=context.clock.now(),
        )
        result = template_out(template)
    response.headers["Location"] = f"/api/v1/guilds/{guild_id}/templates/{result.id}"
    return result


@router.get("/{template_id}", responses=TEMPLATE_RESPONSES, summary="Read a template")
def get_template(
    guild_id: Snowflake, template_id: uuid.UUID, caller: CurrentCaller, context: Context
) -> TemplateOut:
    """One template, for those who may use it."""
    rights = _require_host(caller, guild_id)
    with context.session_factory() as session:
        template = template_store.get_template(session, guild_id, template_id)
        return template_out(template_store.check_may_use(template, rights))


@router.patch("/{template_id}", responses=WRITE_RESPONSES, summary="Edit a template")
def update_template(
    guild_id: Snowflake,
    template_id: uuid.UUID,
    body: TemplateUpdate,
    caller: CurrentCaller,
    context: Context,
) -> TemplateOut:
    """Change the fields sent; games made from it before keep their values."""
    _require_manager(caller, guild_id)
    changes = some_changes(body.changes())
    with context.session_factory.begin() as session:
        template = template_store.update_template(
            session, guild_id, template_id, changes, now=context.clock.now()
        )
        return template_out(template)


@router.delete(
    "/{template_id}", status_code=204, responses=TEMPLATE_RESPONSES, summary="Delete a template"
)
def delete_template(
    guild_id: Snowflake, template_id: uuid.UUID, caller: CurrentCaller, context: Context
) -> Response:
    """Remove the template; games made from it stay as they are."""
    _require_manager(caller, guild_id)
    with context.session_factory.begin() as session:
        template_store.delete_template(session, guild_id, template_id)
    return Response(status_code=204)
