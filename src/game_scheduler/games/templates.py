"""Templates: a server's named presets (channel, title, description, seats, duration,
reminders, and the host roles allowed to use them) that new games and series start from.

Managers write them; hosts use those the rule book lets them (`may_use_template`). A
template is always looked up within one server, so a template of another server is
"not found", never shown. Every function works in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from game_scheduler.db.models import GameTemplate
from game_scheduler.domain.permissions import Rights, may_use_template
from game_scheduler.domain.validation import (
    InvalidField,
    check_duration,
    check_max_players,
    check_optional_text,
    check_reminder_minutes,
    check_snowflake,
    check_title,
    clean_text,
    has_visible_text,
)
from game_scheduler.games.errors import TemplateNameTaken, TemplateNotAllowed, TemplateNotFound

MAX_NAME_LENGTH = 100
MAX_ALLOWED_ROLES = 25
MAX_TEMPLATES_PER_SERVER = 100
# What a game takes from its template (besides the channel).
GAME_FIELDS = (
    "title",
    "description",
    "where",
    "max_players",
    "expected_duration_minutes",
    "reminder_minutes",
)
EDITABLE_FIELDS = frozenset({"name", "channel_id", "allowed_role_ids", *GAME_FIELDS})


@dataclass(frozen=True)
class NewTemplate:
    """What a manager gives to make a template; every game field may stay empty."""

    guild_id: int
    name: str
    channel_id: int | None = None
    title: str | None = None
    description: str | None = None
    where: str | None = None
    max_players: int | None = None
    expected_duration_minutes: int | None = None
    reminder_minutes: Sequence[int] | None = None  # None: the server's default
    allowed_role_ids: Sequence[int] = field(default=())


def check_name(name: str) -> str:
    """A template's name: 1 to 100 characters with something visible, trimmed."""
    name = clean_text(name).strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not has_visible_text(name):
        raise InvalidField("name", f"must be 1 to {MAX_NAME_LENGTH} visible characters")
    return name


def _roles(role_ids: Sequence[int]) -> list[int]:
    if len(role_ids) > MAX_ALLOWED_ROLES:
        raise InvalidField("allowed_role_ids", f"at most {MAX_ALLOWED_ROLES} roles")
    return sorted({check_snowflake("allowed_role_ids", r) for r in role_ids})


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "guild_id": lambda v: check_snowflake("guild_id", v),
        "name": check_name,
        "channel_id": lambda v: None if v is None else check_snowflake("channel_id", v),
        "title": lambda v: None if v is None else check_title(v),
        "description": check_optional_text,
        "where": check_optional_text,
        "max_players": check_max_players,
        "expected_duration_minutes": check_duration,
        "reminder_minutes": lambda v: None if v is None else check_reminder_minutes(list(v)),
        "allowed_role_ids": lambda v: _roles(list(v)),
    }
    return {k: checks[k](v) for k, v in values.items()}


def _name_taken(session: Session, guild_id: int, name: str, but: uuid.UUID | None) -> bool:
    query = select(GameTemplate.id).where(
        GameTemplate.guild_id == guild_id, func.lower(GameTemplate.name) == name.lower()
    )
    if but is not None:
        query = query.where(GameTemplate.id != but)
    return session.scalars(query.limit(1)).first() is not None


def create_template(session: Session, new: NewTemplate, *, now: datetime) -> GameTemplate:
    """Add a template to its server; names are unique per server, ignoring case."""
    values = _validated(dict(vars(new)))
    if _name_taken(session, values["guild_id"], values["name"], None):
        raise TemplateNameTaken(values["name"])
    count = session.scalar(select(func.count()).where(GameTemplate.guild_id == values["guild_id"]))
    if (count or 0) >= MAX_TEMPLATES_PER_SERVER:
        raise InvalidField("name", f"a server keeps at most {MAX_TEMPLATES_PER_SERVER} templates")
    template = GameTemplate(**values, created_at=now, updated_at=now)
    session.add(template)
    session.flush()
    return template


def list_templates(session: Session, guild_id: int) -> list[GameTemplate]:
    """The server's templates by name."""
    query = select(GameTemplate).where(GameTemplate.guild_id == guild_id)
    return list(session.scalars(query.order_by(func.lower(GameTemplate.name))))


def get_template(
    session: Session, guild_id: int, template_id: uuid.UUID, *, for_update: bool = False
) -> GameTemplate:
    """One template of this server; TemplateNotFound for an unknown id or another server's."""
    query = select(GameTemplate).where(
        GameTemplate.id == template_id, GameTemplate.guild_id == guild_id
    )
    if for_update:
        query = query.with_for_update()
    template = session.scalars(query).one_or_none()
    if template is None:
        raise TemplateNotFound(str(template_id))
    return template


def find_template(session: Session, guild_id: int, value: str) -> GameTemplate:
    """The template of this server a person named: its id (from autocomplete) or its name."""
    text = value.strip()
    try:
        return get_template(session, guild_id, uuid.UUID(text))
    except ValueError:
        pass
    query = select(GameTemplate).where(
        GameTemplate.guild_id == guild_id, func.lower(GameTemplate.name) == text.lower()
    )
    template = session.scalars(query).one_or_none()
    if template is None:
        raise TemplateNotFound(text[:MAX_NAME_LENGTH])
    return template


def update_template(
    session: Session,
    guild_id: int,
    template_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    now: datetime,
) -> GameTemplate:
    """Change the given fields of a template; games made from it before keep theirs."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"fields that cannot be edited: {', '.join(sorted(unknown))}")
    template = get_template(session, guild_id, template_id, for_update=True)
    values = _validated(changes)
    if "name" in values and _name_taken(session, guild_id, values["name"], template.id):
        raise TemplateNameTaken(values["name"])
    for name, value in values.items():
        setattr(template, name, value)
    template.updated_at = now
    session.flush()
    return template


def delete_template(session: Session, guild_id: int, template_id: uuid.UUID) -> None:
    """Remove a template; games made from it are not touched."""
    session.delete(get_template(session, guild_id, template_id, for_update=True))
    session.flush()


def may_use(template: GameTemplate, rights: Rights) -> bool:
    """Whether these rights may start a game from the template."""
    return may_use_template(rights, template.allowed_role_ids)


def check_may_use(template: GameTemplate, rights: Rights) -> GameTemplate:
    """The template, or TemplateNotAllowed when it is kept for other roles."""
    if not may_use(template, rights):
        raise TemplateNotAllowed(template.name)
    return template


def usable_templates(
    session: Session, guild_id: int, rights: Rights, search: str = ""
) -> list[GameTemplate]:
    """The server's templates these rights may use, whose name contains `search`."""
    needle = search.strip().lower()
    return [
        t
        for t in list_templates(session, guild_id)
        if may_use(t, rights) and needle in t.name.lower()
    ]


def game_values(template: GameTemplate) -> dict[str, Any]:
    """The fields a new game takes from the template: only those it sets."""
    values = {name: getattr(template, name) for name in GAME_FIELDS}
    if template.channel_id is not None:
        values["channel_id"] = template.channel_id
    return {k: (list(v) if isinstance(v, list) else v) for k, v in values.items() if v is not None}
