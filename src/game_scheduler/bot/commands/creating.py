"""`/game create`'s work: one game, or a series (`repeat`), optionally from a template.

What the person typed wins over the template, the template over the server's defaults.
A series keeps the server's time zone: the typed `when` (read in the person's zone) is
its first occurrence, and every later one falls at the same wall-clock time in the
server's zone, across daylight-saving changes. Everything happens in the caller's
transaction; a Refusal rolls it back, so nothing half-made is committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from game_scheduler.bot.commands import answers
from game_scheduler.bot.commands.forms import DESCRIPTION_MAX, WHERE_MAX, GameFields
from game_scheduler.bot.commands.people import (
    Caller,
    Facts,
    default_channel,
    default_duration,
    default_reminders,
    load_caller,
)
from game_scheduler.bot.commands.reading import (
    Refusal,
    check_length,
    checked,
    minutes,
    reminders_of,
    seats_of,
    when_reason,
)
from game_scheduler.db.models import GameSeries, GameTemplate
from game_scheduler.domain.recurrence import rule_for_repeat
from game_scheduler.domain.rule_words import describe_rule
from game_scheduler.domain.when import Unreadable, WhenReading, describe_local, read_when
from game_scheduler.games import series as series_service
from game_scheduler.games import service
from game_scheduler.games import templates as template_store
from game_scheduler.games.errors import TemplateNotFound

REPEAT_LABELS = {
    "weekly": "every week",
    "biweekly": "every 2 weeks",
    "monthly": "monthly, on this weekday",
}
NEXT_SHOWN = 3  # occurrences listed in a new series' answer


@dataclass(frozen=True)
class Created:
    """What a create made (the games to post) and the answer to give."""

    game_ids: list[uuid.UUID]
    text: str


@dataclass(frozen=True)
class CreateRequest:
    """The create command's options as typed."""

    fields: GameFields
    channel_id: int | None = None  # the `channel` option
    template: str | None = None  # an id from autocomplete, or a name typed
    repeat: str | None = None  # weekly | biweekly | monthly


def _template(session: Session, caller: Caller, value: str) -> GameTemplate:
    try:
        template = template_store.find_template(session, caller.guild_id, value)
    except TemplateNotFound:
        raise Refusal(
            f"This server has no template `{value.strip()[:60]}`: pick one from the list as "
            "you type. Nothing was created."
        ) from None
    if not template_store.may_use(template, caller.rights):
        roles = ", ".join(f"<@&{r}>" for r in template.allowed_role_ids)
        raise Refusal(
            f"The template **{answers.safe_name(template.name)}** is for {roles} only, "
            "and you have none of those roles. Nothing was created."
        )
    return template


def _game_values(
    session: Session, caller: Caller, request: CreateRequest, preset: dict[str, Any]
) -> dict[str, Any]:
    """The new game's fields: typed, else the template's, else the server's defaults."""
    fields = request.fields
    guild_id = caller.guild_id
    title = (fields.title or "").strip() or preset.get("title")
    if not title:
        raise Refusal("Give a `title`, or a `template` that has one. Nothing was created.")
    duration = minutes(fields.duration, "duration")
    if duration is None:
        duration = preset.get("expected_duration_minutes", default_duration(session, guild_id))
    reminder_minutes: Sequence[int] | None = reminders_of(fields.reminders)
    if reminder_minutes is None:
        reminder_minutes = preset.get("reminder_minutes", default_reminders(session, guild_id))
    check_length("where", fields.where, WHERE_MAX)
    check_length("description", fields.description, DESCRIPTION_MAX)
    typed_seats = seats_of(fields.seats)
    return {
        "title": title,
        "description": fields.description or preset.get("description"),
        "where": fields.where or preset.get("where"),
        "max_players": typed_seats if typed_seats is not None else preset.get("max_players"),
        "expected_duration_minutes": duration,
        "reminder_minutes": (
            service.DEFAULT_REMINDER_MINUTES if reminder_minutes is None else reminder_minutes
        ),
    }


def create_from_command(
    session: Session,
    facts: Facts,
    request: CreateRequest,
    can_post: Callable[[int], bool],
    *,
    now: datetime,
) -> Created:
    """Create what `/game create` asked for, or raise a Refusal that says why not."""
    caller = load_caller(session, facts)
    if not caller.rights.can_host:
        raise Refusal(answers.CANNOT_HOST)
    template = _template(session, caller, request.template) if request.template else None
    preset = template_store.game_values(template) if template is not None else {}
    channel_id = (
        request.channel_id
        or preset.get("channel_id")
        or default_channel(session, facts.guild_id)
        or facts.channel_id
    )
    if not can_post(channel_id):
        raise Refusal(
            f"I cannot post in <#{channel_id}>: I need View Channel, Send Messages and "
            "Embed Links there. Nothing was created."
        )
    reading = read_when(request.fields.when or "", now=now, zone=caller.zone)
    if isinstance(reading, Unreadable):
        raise Refusal(when_reason(reading, caller))
    values = _game_values(session, caller, request, preset)
    if request.repeat:
        created = _create_series(session, caller, channel_id, values, reading, request, now)
    else:
        new_game = service.NewGame(
            guild_id=facts.guild_id,
            channel_id=channel_id,
            host_id=facts.user_id,
            scheduled_at=reading.instant,
            **values,
        )
        game = checked(lambda: service.create_game(session, new_game, now=now), request.fields)
        created = Created([game.id], f"Created {answers.summary(game)}")
    lines = [created.text]
    if template is not None:
        lines.append(f"Started from the template **{answers.safe_name(template.name)}**.")
    lines.append(
        f"I read `{request.fields.when}` in {caller.zone} as {describe_local(reading.local)}."
    )
    if reading.note:
        lines.append(f"Note: {reading.note}.")
    return Created(created.game_ids, "\n".join(lines))


def _create_series(
    session: Session,
    caller: Caller,
    channel_id: int,
    values: dict[str, Any],
    reading: WhenReading,
    request: CreateRequest,
    now: datetime,
) -> Created:
    zone = caller.server_zone
    # The first game is exactly what was typed; the rule keeps its wall time in the
    # server's zone from then on.
    local_start = reading.instant.astimezone(ZoneInfo(zone)).replace(
        tzinfo=None, second=0, microsecond=0
    )
    repeat = request.repeat or ""
    try:
        rule = rule_for_repeat(repeat, local_start)
    except ValueError:
        raise Refusal(
            f"`repeat` must be one of {', '.join(REPEAT_LABELS)}. Nothing was created."
        ) from None
    new = series_service.NewSeries(
        guild_id=caller.guild_id,
        channel_id=channel_id,
        host_id=caller.user_id,
        rrule=rule,
        timezone=zone,
        local_start=local_start,
        **values,
    )
    series: GameSeries = checked(
        lambda: series_service.create_series(session, new, now=now), request.fields
    )
    games = series_service.games_of(session, series.id)
    upcoming = series_service.upcoming_occurrences(session, series, now=now, count=NEXT_SHOWN)
    shown = ", ".join(answers.stamp(t) for t in upcoming)
    first = games[0]
    text = (
        f"Created the series {answers.title_of(first)}: "
        f"{describe_rule(series.rrule, series.local_start, zone)}, in <#{channel_id}>: "
        f"{answers.seats_text(first.max_players)}, "
        f"{answers.reminders_text(first.reminder_minutes)}.\n"
        f"Next: {shown}."
    )
    return Created([g.id for g in games], text)
