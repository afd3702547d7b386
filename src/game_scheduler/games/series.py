"""Repeating games: create, edit, skip and end a series, and make its occurrences games.

Every function works inside the caller's transaction and locks the series row first, so
the API, the slash commands, the dashboard and the consumer of `game.series_due` never
change one series at the same time. Occurrences become normal games (through
`games/service.py`, with their own message, reminders and transitions) ahead of time:
every occurrence within `SERIES_HORIZON`, and always the next one that is not skipped.
The `series_schedule` row says when that must be looked at again; the generic scheduler
daemon fires it (docs/scheduler.md). A unique (series_id, series_occurrence_at) makes an
occurrence a game at most once, however often or concurrently this runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.db.models import GameSeries, GameSession, SeriesSchedule
from game_scheduler.domain.recurrence import (
    Recurrence,
    check_recurrence,
    iter_occurrences,
)
from game_scheduler.domain.status import GameStatus
from game_scheduler.domain.validation import (
    InvalidField,
    check_duration,
    check_max_players,
    check_reminder_minutes,
    check_snowflake,
    check_title,
)
from game_scheduler.games import service
from game_scheduler.games.errors import SeriesEnded, SeriesNotFound

SERIES_HORIZON = timedelta(days=14)
PREVIEW_COUNT = 5
# Skipped occurrences looked past in one go before giving up on finding a live one.
MAX_SKIPPED_IN_A_ROW = 500
# Fields every occurrence copies from its series.
GAME_FIELDS = (
    "title",
    "description",
    "where",
    "signup_instructions",
    "max_players",
    "expected_duration_minutes",
    "reminder_minutes",
)
TIMING_FIELDS = frozenset({"rrule", "timezone", "local_start"})
EDITABLE_FIELDS = frozenset(GAME_FIELDS) | TIMING_FIELDS | {"carry_over_players"}


@dataclass(frozen=True)
class NewSeries:
    """What a host provides to create a repeating game."""

    guild_id: int
    channel_id: int
    host_id: int
    title: str
    rrule: str
    timezone: str
    local_start: datetime  # wall clock in `timezone`, no offset
    description: str | None = None
    where: str | None = None
    signup_instructions: str | None = None
    max_players: int | None = None
    expected_duration_minutes: int | None = None
    reminder_minutes: Sequence[int] = field(default=service.DEFAULT_REMINDER_MINUTES)
    carry_over_players: bool = False


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "guild_id": lambda v: check_snowflake("guild_id", v),
        "channel_id": lambda v: check_snowflake("channel_id", v),
        "host_id": lambda v: check_snowflake("host_id", v),
        "title": check_title,
        "max_players": check_max_players,
        "expected_duration_minutes": check_duration,
        "reminder_minutes": lambda v: check_reminder_minutes(list(v)),
    }
    return {k: checks[k](v) if k in checks else v for k, v in values.items()}


def recurrence_of(series: GameSeries) -> Recurrence:
    """The series' rule, zone and wall-clock start (checked when they were stored)."""
    return Recurrence(rule=series.rrule, timezone=series.timezone, local_start=series.local_start)


def skipped_slots(session: Session, series: GameSeries) -> set[datetime]:
    """Occurrences that will not be played: skipped before they were games, or cancelled."""
    cancelled = session.scalars(
        select(GameSession.series_occurrence_at).where(
            GameSession.series_id == series.id,
            GameSession.status == GameStatus.CANCELLED.value,
            GameSession.series_occurrence_at.is_not(None),
        )
    )
    return set(series.skipped_occurrences) | {t for t in cancelled if t is not None}


def upcoming_occurrences(
    session: Session, series: GameSeries, *, now: datetime, count: int
) -> list[datetime]:
    """The next `count` start times in UTC after `now`, skipped and cancelled ones left out."""
    if not series.active:
        return []
    skipped = skipped_slots(session, series)
    found: list[datetime] = []
    for instant in iter_occurrences(recurrence_of(series), now):
        if instant not in skipped:
            found.append(instant)
            if len(found) >= count:
                break
    return found


def create_series(session: Session, new: NewSeries, *, now: datetime) -> GameSeries:
    """Create a series and make its first occurrences games, in the caller's transaction."""
    recurrence = check_recurrence(new.rrule, new.timezone, new.local_start, now=now)
    values = _validated({k: v for k, v in vars(new).items() if k not in TIMING_FIELDS})
    series = GameSeries(
        **values,
        rrule=recurrence.rule,
        timezone=recurrence.timezone,
        local_start=recurrence.local_start,
    )
    session.add(series)
    session.flush()
    _materialise(session, series, now)
    return series


def get_series(session: Session, series_id: uuid.UUID, *, for_update: bool = False) -> GameSeries:
    """Load a series; raises SeriesNotFound."""
    query = select(GameSeries).where(GameSeries.id == series_id)
    if for_update:
        query = query.with_for_update()
    series = session.scalars(query).one_or_none()
    if series is None:
        raise SeriesNotFound(series_id)
    return series


def games_of(session: Session, series_id: uuid.UUID) -> list[GameSession]:
    """The series' occurrences that exist as games, by occurrence."""
    query = (
        select(GameSession)
        .where(GameSession.series_id == series_id)
        .order_by(GameSession.series_occurrence_at, GameSession.id)
    )
    return list(session.scalars(query))


def _future(games: list[GameSession], now: datetime) -> list[GameSession]:
    return [g for g in games if g.status == GameStatus.SCHEDULED and g.scheduled_at > now]


def update_series(
    session: Session, series_id: uuid.UUID, changes: dict[str, Any], *, now: datetime
) -> GameSeries:
    """Edit a series: future occurrences follow, posted ones edited in place with their players."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"fields that cannot be edited: {', '.join(sorted(unknown))}")
    series = get_series(session, series_id, for_update=True)
    if not series.active:
        raise SeriesEnded(series_id, "edit the series")
    timing = changes.keys() & TIMING_FIELDS
    recurrence = None
    if timing:
        recurrence = check_recurrence(
            changes.get("rrule", series.rrule),
            changes.get("timezone", series.timezone),
            changes.get("local_start", series.local_start),
            now=now,
            new_start="local_start" in changes,
        )
    values = _validated({k: v for k, v in changes.items() if k not in TIMING_FIELDS})
    for name, value in values.items():
        setattr(series, name, value)
    if recurrence is not None:
        series.rrule = recurrence.rule
        series.timezone = recurrence.timezone
        series.local_start = recurrence.local_start
    series.updated_at = now
    session.flush()
    game_changes = {k: v for k, v in values.items() if k in GAME_FIELDS}
    if game_changes:
        for game in _future(games_of(session, series.id), now):
            service.update_game(session, game.id, game_changes, now=now)
    if recurrence is not None:
        _retime(session, series, now)
    _materialise(session, series, now)
    return series


def _retime(session: Session, series: GameSeries, now: datetime) -> None:
    """Move the future games to the new rule's occurrences, in order, keeping their players."""
    games = games_of(session, series.id)
    future = _future(games, now)
    moving = {g.id for g in future}
    # Slots that stay taken: skipped ones, and those of games that are not moving.
    taken = set(series.skipped_occurrences) | {
        g.series_occurrence_at for g in games if g.id not in moving
    }
    slots: list[datetime] = []
    if future:
        for instant in iter_occurrences(recurrence_of(series), now):
            if instant not in taken:
                slots.append(instant)
                if len(slots) == len(future):
                    break
    # Clear first: moving game A onto B's old slot must not collide with B not moved yet.
    for game in future:
        game.series_occurrence_at = None
    session.flush()
    for game, slot in zip(future, slots, strict=False):
        game.series_occurrence_at = slot
        if game.scheduled_at != slot:
            service.update_game(session, game.id, {"scheduled_at": slot}, now=now)
    session.flush()
    for game in future[len(slots) :]:
        service.cancel_game(session, game.id, now=now)  # the new rule ends sooner


def end_series(session: Session, series_id: uuid.UUID, *, now: datetime) -> GameSeries:
    """End a series: occurrences that have not started are cancelled, nothing more is made."""
    series = get_series(session, series_id, for_update=True)
    if not series.active:
        raise SeriesEnded(series_id, "end the series")
    series.active = False
    series.updated_at = now
    session.flush()
    for game in games_of(session, series.id):
        if game.status == GameStatus.SCHEDULED:
            service.cancel_game(session, game.id, now=now)
    session.execute(delete(SeriesSchedule).where(SeriesSchedule.series_id == series.id))
    return series


def skip_occurrence(
    session: Session, series_id: uuid.UUID, occurrence_at: datetime, *, now: datetime
) -> GameSeries:
    """Skip one occurrence (cancel its game, or never make it); the rest stay as they are."""
    series = get_series(session, series_id, for_update=True)
    if not series.active:
        raise SeriesEnded(series_id, "skip an occurrence")
    if occurrence_at.tzinfo is None:
        raise InvalidField("occurrence", "must include a timezone offset, e.g. +00:00")
    game = next(
        (g for g in games_of(session, series.id) if g.series_occurrence_at == occurrence_at), None
    )
    if game is not None:
        if game.status != GameStatus.CANCELLED:
            if game.status != GameStatus.SCHEDULED or game.scheduled_at <= now:
                raise InvalidField("occurrence", "has started already")
            service.cancel_game(session, game.id, now=now)
    else:
        is_occurrence = False
        for instant in iter_occurrences(recurrence_of(series), now):
            if instant >= occurrence_at:
                is_occurrence = instant == occurrence_at
                break
        if not is_occurrence:
            raise InvalidField(
                "occurrence", "is not an upcoming occurrence; GET the series' occurrences"
            )
        if occurrence_at not in series.skipped_occurrences:
            series.skipped_occurrences = [*series.skipped_occurrences, occurrence_at]
    series.updated_at = now
    session.flush()
    _materialise(session, series, now)
    return series


def materialise_series(
    session: Session, series_id: uuid.UUID, *, now: datetime
) -> list[GameSession]:
    """Make every occurrence due as a game by `now` a game; returns the games made.

    Safe to repeat and to run concurrently: the series lock serialises runs, and the
    unique occurrence slot stops a second game for one occurrence in any case.
    """
    try:
        series = get_series(session, series_id, for_update=True)
    except SeriesNotFound:
        return []
    return _materialise(session, series, now)


def _materialise(session: Session, series: GameSeries, now: datetime) -> list[GameSession]:
    # The scheduler fires this at a start time by the database clock; a bot host whose
    # clock lags would see that game as not started yet and fire again and again.
    now = max(now, session.scalar(select(func.now())) or now)
    if not series.active:
        session.execute(delete(SeriesSchedule).where(SeriesSchedule.series_id == series.id))
        return []
    by_slot = {g.series_occurrence_at: g for g in games_of(session, series.id)}
    skipped = set(series.skipped_occurrences)
    made: list[GameSession] = []
    last_live: datetime | None = None
    after_horizon: datetime | None = None
    looked_past = 0
    for instant in iter_occurrences(recurrence_of(series), now):
        if instant > now + SERIES_HORIZON and last_live is not None:
            after_horizon = instant
            break
        game = by_slot.get(instant)
        if instant in skipped or (game is not None and game.status == GameStatus.CANCELLED):
            looked_past += 1
            if looked_past > MAX_SKIPPED_IN_A_ROW and last_live is None:
                break
            continue
        if game is None:
            made.append(_make_occurrence(session, series, instant, now))
        last_live = instant
    _schedule_next_look(session, series, last_live, after_horizon)
    return made


def _schedule_next_look(
    session: Session, series: GameSeries, last_live: datetime | None, next_one: datetime | None
) -> None:
    """Replace the series' schedule row: due when the next occurrence must become a game,
    that is when it enters the horizon or when the last live one starts, if sooner."""
    session.execute(delete(SeriesSchedule).where(SeriesSchedule.series_id == series.id))
    if next_one is None:
        if last_live is None:
            series.active = False  # the rule has run out: nothing left to make or play
        return
    due = next_one - SERIES_HORIZON
    if last_live is not None:
        due = min(due, last_live)
    session.execute(insert(SeriesSchedule).values(series_id=series.id, materialize_at=due))


def _make_occurrence(
    session: Session, series: GameSeries, instant: datetime, now: datetime
) -> GameSession:
    new_game = service.NewGame(
        guild_id=series.guild_id,
        channel_id=series.channel_id,
        host_id=series.host_id,
        scheduled_at=instant,
        **{name: getattr(series, name) for name in GAME_FIELDS},
    )
    game = service.create_game(session, new_game, now=now)
    game.series_id = series.id
    game.series_occurrence_at = instant
    session.flush()
    if series.carry_over_players:
        _carry_over(session, series, game, now)
    return game


def _carry_over(session: Session, series: GameSeries, game: GameSession, now: datetime) -> None:
    """Seat the players of the series' previous game that was played or is planned."""
    assert game.series_occurrence_at is not None
    previous = session.scalars(
        select(GameSession)
        .where(
            GameSession.series_id == series.id,
            GameSession.series_occurrence_at < game.series_occurrence_at,
            GameSession.status != GameStatus.CANCELLED.value,
        )
        .order_by(GameSession.series_occurrence_at.desc())
        .limit(1)
    ).one_or_none()
    if previous is None:
        return
    for participant in list(previous.participants):
        if participant.user_id is not None:
            service.join_game(
                session,
                game.id,
                participant.user_id,
                now=now,
                display_name=participant.display_name,
            )


def series_preview(session: Session, series: GameSeries, *, now: datetime) -> list[datetime]:
    """The next few start times, as a series' API answer shows them."""
    return upcoming_occurrences(session, series, now=now, count=PREVIEW_COUNT)
