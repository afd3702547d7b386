"""The game form: what a person typed, read into the API's own schemas, errors per field.

The form never has rules of its own: it turns text into the values `GameCreate` and
`GameUpdate` take (a date and a time in the viewer's zone become one aware instant), and
puts every complaint of the schema or the game service beside the field it is about.
What was typed is kept, so a refused form comes back filled in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from game_scheduler.api.schemas import GameCreate, GameUpdate
from game_scheduler.api.template_schemas import TemplateCreate
from game_scheduler.db.models import GameSession
from game_scheduler.domain.recurrence import rule_for_repeat
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games.series import NewSeries
from game_scheduler.web.views import REMINDER_CHOICES

TEXT_FIELDS = ("title", "description", "where", "signup_instructions")
# The form field a schema or service field is shown beside.
FORM_FIELD = {
    "scheduled_at": "when",
    "max_players": "seats",
    "expected_duration_minutes": "duration",
    "reminder_minutes": "reminders",
    "channel_id": "channel_id",
    "guild_id": "channel_id",
    "host_id": "title",
    "rrule": "repeat",
    "repeat": "repeat",
    "timezone": "repeat",
    "local_start": "when",
    "allowed_role_ids": "allowed_role_ids",
    "checkin_minutes": "checkin",
    "release_minutes": "release",
    "min_players": "min_players",
}
CHECKIN_FORM_FIELDS = ("checkin", "release", "min_players")
_PRESET_MINUTES = {str(m) for m, _ in REMINDER_CHOICES}
_FRIENDLY = {
    "string_too_long": "is too long: at most {max_length} characters",
    "too_long": "has too many values: at most {max_length}",
    "string_too_short": "is required",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


@dataclass
class GameForm:
    """The game form as typed: text values, the reminder choices, and errors per field."""

    values: dict[str, str] = field(default_factory=dict)
    reminders: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, form_field: str, message: str) -> None:
        """Record the first complaint about a field."""
        self.errors.setdefault(form_field, message)

    def refuse(self, exc: InvalidField) -> None:
        """Show a game service complaint beside its field."""
        self.error(FORM_FIELD.get(exc.field, exc.field), exc.reason)


def read_form(form: Any) -> GameForm:
    """What the browser sent (a Starlette FormData), kept as typed."""
    names = (
        *TEXT_FIELDS,
        *("channel_id", "date", "time", "duration", "seats", "custom_reminders", "repeat", "name"),
        *CHECKIN_FORM_FIELDS,
    )
    values = {name: str(form.get(name) or "") for name in names}
    return GameForm(values=values, reminders=[str(v) for v in form.getlist("reminders")])


def blank_form(
    *,
    channel_id: int | None,
    reminder_minutes: Sequence[int],
    duration_minutes: int | None,
    checkin_minutes: int | None = None,
    release_minutes: int | None = None,
) -> GameForm:
    """A new game's form, filled with the server's defaults (its check-in, when it has one)."""
    form = GameForm(
        values={
            "channel_id": str(channel_id or ""),
            "duration": str(duration_minutes or ""),
            "checkin": str(checkin_minutes or ""),
            "release": str(release_minutes or ""),
        }
    )
    _set_reminders(form, reminder_minutes)
    return form


def form_of(game: GameSession, zone: ZoneInfo) -> GameForm:
    """An existing game's form, its time in `zone`."""
    local = game.scheduled_at.astimezone(zone)
    form = GameForm(
        values={
            "title": game.title,
            "description": game.description or "",
            "where": game.where or "",
            "signup_instructions": game.signup_instructions or "",
            "channel_id": str(game.channel_id),
            "date": f"{local:%Y-%m-%d}",
            "time": f"{local:%H:%M}",
            "duration": str(game.expected_duration_minutes or ""),
            "seats": str(game.max_players or ""),
            "checkin": str(game.checkin_minutes or ""),
            "release": str(game.release_minutes or ""),
            "min_players": str(game.min_players or ""),
        }
    )
    _set_reminders(form, game.reminder_minutes)
    return form


def apply_template(form: GameForm, values: Mapping[str, Any]) -> None:
    """Fill a new game's form from a template's values (`templates.game_values`)."""
    for name in ("title", "description", "where"):
        if name in values:
            form.values[name] = str(values[name])
    for name, form_field in (
        ("channel_id", "channel_id"),
        ("max_players", "seats"),
        ("expected_duration_minutes", "duration"),
    ):
        if name in values:
            form.values[form_field] = str(values[name])
    if "reminder_minutes" in values:
        _set_reminders(form, values["reminder_minutes"])


def to_series(form: GameForm, body: GameCreate, server_zone: str) -> NewSeries | None:
    """A new game's form with a "Repeat" choice as a series in the server's zone, or None.

    The form's date and time are the first game; each later one keeps that wall-clock
    time in the server's zone.
    """
    choice = form.values.get("repeat", "").strip()
    if not choice:
        return None
    local_start = body.scheduled_at.astimezone(ZoneInfo(server_zone)).replace(tzinfo=None)
    # What a series copies to every game; a game's other fields stay the one game's.
    names = {f.name for f in dataclasses.fields(NewSeries)} & set(type(body).model_fields)
    fields = {name: getattr(body, name) for name in names}
    return NewSeries(
        **fields,
        rrule=rule_for_repeat(choice, local_start),
        timezone=server_zone,
        local_start=local_start,
    )


def _set_reminders(form: GameForm, minutes: Sequence[int]) -> None:
    form.reminders = [str(m) for m in minutes if str(m) in _PRESET_MINUTES]
    custom = [str(m) for m in minutes if str(m) not in _PRESET_MINUTES]
    form.values["custom_reminders"] = ", ".join(custom)


def _whole(form: GameForm, name: str) -> int | None:
    text = form.values.get(name, "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        form.error(name, "must be a whole number")
        return None
    return int(text)


def _when(form: GameForm, zone: ZoneInfo) -> datetime | None:
    day, clock = form.values.get("date", "").strip(), form.values.get("time", "").strip()
    if not day or not clock:
        form.error("when", "enter a date and a time")
        return None
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        form.error("when", "enter the date as YYYY-MM-DD and the time as HH:MM")
        return None
    return local.replace(tzinfo=zone)


def _reminder_minutes(form: GameForm) -> list[int]:
    chosen: list[int] = []
    for value in form.reminders:
        if value in _PRESET_MINUTES:
            chosen.append(int(value))
    for part in form.values.get("custom_reminders", "").replace(";", ",").split(","):
        part = part.strip().removesuffix("min").strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit():
            form.error("reminders", "custom reminders are whole minutes, e.g. 30, 10")
            continue
        chosen.append(int(part))
    return sorted(set(chosen), reverse=True)


def _fields(form: GameForm, zone: ZoneInfo) -> dict[str, Any]:
    text = {name: form.values.get(name, "").strip() or None for name in TEXT_FIELDS}
    text["title"] = form.values.get("title", "").strip()
    return {
        **text,
        "channel_id": form.values.get("channel_id", "").strip() or None,
        "scheduled_at": _when(form, zone),
        "max_players": _whole(form, "seats"),
        "expected_duration_minutes": _whole(form, "duration"),
        "reminder_minutes": _reminder_minutes(form),
        # Empty: no check-in (a new game's form starts with the server's, if it has one).
        "checkin_minutes": _whole(form, "checkin"),
        "release_minutes": _whole(form, "release"),
        "min_players": _whole(form, "min_players"),
    }


def _validated(form: GameForm, schema: type[BaseModel], raw: dict[str, Any]) -> Any:
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "title"
            template = _FRIENDLY.get(error["type"])
            message = template.format(**error.get("ctx", {})) if template else error["msg"]
            form.error(FORM_FIELD.get(name, name), message)
        return None


def to_create(form: GameForm, *, guild_id: int, host_id: int, zone: ZoneInfo) -> GameCreate | None:
    """The form as `POST /api/v1/games` takes it, or None with `form.errors` filled in."""
    raw = {**_fields(form, zone), "guild_id": guild_id, "host_id": host_id}
    if raw["channel_id"] is None:
        form.error("channel_id", "choose the channel to post the game in")
    # Missing parts already have their message; stand-ins let the schema judge the rest,
    # so every field's complaint shows at once.
    stand_ins = {"channel_id": guild_id, "scheduled_at": datetime.now(zone)}
    checked = {k: stand_ins[k] if v is None and k in stand_ins else v for k, v in raw.items()}
    created: GameCreate | None = _validated(form, GameCreate, checked)
    return created if not form.errors else None


def to_changes(form: GameForm, game: GameSession, zone: ZoneInfo) -> dict[str, Any] | None:
    """What the form changes in `game`, as `update_game` takes it; None on errors."""
    raw = _fields(form, zone)
    raw.pop("channel_id")  # a posted game stays in its channel
    if form.errors or raw["scheduled_at"] is None:
        return None
    current: Mapping[str, Any] = {
        "title": game.title,
        "description": game.description,
        "where": game.where,
        "signup_instructions": game.signup_instructions,
        "scheduled_at": game.scheduled_at,
        "max_players": game.max_players,
        "expected_duration_minutes": game.expected_duration_minutes,
        "reminder_minutes": sorted(game.reminder_minutes, reverse=True),
        "checkin_minutes": game.checkin_minutes,
        "release_minutes": game.release_minutes,
        "min_players": game.min_players,
    }
    changed = {name: value for name, value in raw.items() if value != current[name]}
    update: GameUpdate | None = _validated(form, GameUpdate, changed)
    if update is None or form.errors:
        return None
    return update.changes()


def to_template(form: GameForm, role_ids: Sequence[str]) -> TemplateCreate | None:
    """The template form as `POST .../templates` takes it, or None with `form.errors` filled.

    No reminder chosen means the server's default reminders.
    """
    text = {name: form.values.get(name, "").strip() or None for name in TEXT_FIELDS}
    raw = {
        "name": form.values.get("name", "").strip(),
        "title": text["title"],
        "description": text["description"],
        "where": text["where"],
        "channel_id": form.values.get("channel_id", "").strip() or None,
        "max_players": _whole(form, "seats"),
        "expected_duration_minutes": _whole(form, "duration"),
        "reminder_minutes": _reminder_minutes(form) or None,
        "allowed_role_ids": [r for r in role_ids if r.isascii() and r.isdigit()],
    }
    created: TemplateCreate | None = _validated(form, TemplateCreate, raw)
    return created if not form.errors else None
