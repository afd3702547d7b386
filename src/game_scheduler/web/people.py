"""The dashboard's viewer from the identity layer: the `gs_session` person and their servers."""

from __future__ import annotations

from fastapi import Request

from game_scheduler.api.identity import person_from_request
from game_scheduler.db.models import UserSettings
from game_scheduler.domain.permissions import Rights
from game_scheduler.web.deps import WebContext
from game_scheduler.web.viewer import ServerAccess, Viewer


def viewer_from_session(request: Request) -> Viewer | None:
    """The signed-in person of a browser request, or None; blocks (asks Discord, cached)."""
    caller = person_from_request(request)
    if caller is None or caller.is_admin or caller.user_id is None:
        return None
    servers = tuple(
        ServerAccess(
            g.guild_id,
            g.name,
            Rights(can_host=g.can_host, can_manage=g.can_manage, role_ids=g.role_ids),
        )
        for g in caller.guilds()
    )
    web: WebContext = request.app.state.web
    with web.api.session_factory() as session:
        own = session.get(UserSettings, caller.user_id)
        zone = own.timezone if own is not None else None
        dm_reminders = own.dm_reminders if own is not None else True
    return Viewer(
        user_id=caller.user_id,
        username=caller.username or str(caller.user_id),
        csrf_token=caller.csrf_token or "",
        timezone=zone,
        dm_reminders=dm_reminders,
        servers=servers,
    )
