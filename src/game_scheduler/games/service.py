"""Create, edit, cancel, join and leave games: every change to a game goes through here.

Each function works inside the caller's transaction (`with sessions.begin() as session:`),
so the game, its schedule rows and the outbox event commit together or not at all. The
caller passes `now` from its clock; the database clock decides only what is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, selectinload

from game_scheduler.db.models import (
    EventOutbox,
    GameParticipant,
    GameSession,
    GameStatusSchedule,
    GuildSettings,
    NotificationSchedule,
    SeriesSchedule,
)
from game_scheduler.domain.checkin import check_checkin
from game_scheduler.domain.roster import Roster, build_roster
from game_scheduler.domain.schedule_plan import plan_schedule
from game_scheduler.domain.status import GameStatus, is_open_for_joining, is_valid_transition
from game_scheduler.domain.validation import (
    InvalidField,
    check_display_name,
    check_duration,
    check_max_players,
    check_optional_text,
    check_reminder_minutes,
    check_scheduled_at,
    check_snowflake,
    check_title,
    clean_text,
    has_visible_text,
)
from game_scheduler.games.checkin_plan import replan_checkins
from game_scheduler.games.errors import (
    AlreadyJoined,
    GameNotFound,
    GameNotOpen,
    NotJoined,
    NotOnRoster,
    ParticipantNotFound,
    TransitionNotAllowed,
)
from game_scheduler.messaging.events import EventType

DEFAULT_REMINDER_MINUTES = (60, 15)
# Fields whose change moves the game's reminders or status changes.
SCHEDULE_FIELDS = frozenset(
    {
        "scheduled_at",
        "expected_duration_minutes",
        "reminder_minutes",
        "checkin_minutes",
        "release_minutes",
    }
)
EDITABLE_FIELDS = SCHEDULE_FIELDS | {
    "title",
    "description",
    "where",
    "signup_instructions",
    "max_players",
    "min_players",
}


@dataclass(frozen=True)
class NewGame:
    """What a host provides to create a game."""

    guild_id: int
    channel_id: int
    host_id: int
    title: str
    scheduled_at: datetime
    description: str | None = None
    where: str | None = None
    signup_instructions: str | None = None
    max_players: int | None = None
    expected_duration_minutes: int | None = None
    reminder_minutes: Sequence[int] = field(default=DEFAULT_REMINDER_MINUTES)
    # Check-in: None takes the server's setting when `server_checkin`, else means off.
    checkin_minutes: int | None = None
    release_minutes: int | None = None
    min_players: int | None = None
    server_checkin: bool = True


@dataclass(frozen=True)
class JoinResult:
    """A join that happened: the participant and, when waiting, the waitlist place."""

    participant: GameParticipant
    waitlist_position: int | None


def _validated(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "guild_id": lambda v: check_snowflake("guild_id", v),
        "channel_id": lambda v: check_snowflake("channel_id", v),
        "host_id": lambda v: check_snowflake("host_id", v),
        "title": check_title,
        "description": check_optional_text,
        "where": check_optional_text,
        "signup_instructions": check_optional_text,
        "scheduled_at": lambda v: check_scheduled_at(v, now),
        "max_players": check_max_players,
        "expected_duration_minutes": check_duration,
        "reminder_minutes": lambda v: check_reminder_minutes(list(v)),
    }
    return {k: checks[k](v) if k in checks else v for k, v in values.items()}


def _write_event(
    session: Session, event_type: EventType, game_id: uuid.UUID, **extra: object
) -> None:
    payload = {"game_id": str(game_id), **extra}
    session.add(EventOutbox(event_type=event_type.value, payload=payload))


def _replace_schedule(session: Session, game: GameSession, now: datetime) -> None:
    """Replace the game's unprocessed schedule rows with those its plan asks for now.

    A processed row for an offset that is planned again (the game moved) is replaced too,
    with a new id, so the new reminder is a new message and not a deduplicated repeat.
    """
    plan = plan_schedule(
        scheduled_at=game.scheduled_at,
        expected_duration_minutes=game.expected_duration_minutes,
        reminder_minutes=game.reminder_minutes,
        status=game.status,
        now=now,
    )
    planned_minutes = [r.reminder_minutes for r in plan.reminders]
    planned_targets = [t.target_status.value for t in plan.transitions]
    session.execute(
        delete(NotificationSchedule).where(
            NotificationSchedule.game_id == game.id,
            ~NotificationSchedule.sent | NotificationSchedule.reminder_minutes.in_(planned_minutes),
        )
    )
    session.execute(
        delete(GameStatusSchedule).where(
            GameStatusSchedule.game_id == game.id,
            ~GameStatusSchedule.executed | GameStatusSchedule.target_status.in_(planned_targets),
        )
    )
    if plan.reminders:
        session.execute(
            insert(NotificationSchedule),
            [
                {
                    "game_id": game.id,
                    "reminder_minutes": r.reminder_minutes,
                    "notification_time": r.notification_time,
                }
                for r in plan.reminders
            ],
        )
    if plan.transitions:
        session.execute(
            insert(GameStatusSchedule),
            [
                {
                    "game_id": game.id,
                    "target_status": t.target_status.value,
                    "transition_time": t.transition_time,
                }
                for t in plan.transitions
            ],
        )
    replan_checkins(session, game, now)


def _with_server_checkin(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The game's check-in settings: its own, else (when asked) its server's."""
    if values.pop("server_checkin") and values["checkin_minutes"] is None:
        guild = session.get(GuildSettings, values["guild_id"])
        if guild is not None and guild.checkin_enabled:
            values["checkin_minutes"] = guild.checkin_minutes
            release = guild.release_enabled and guild.release_minutes < guild.checkin_minutes
            if release and values["release_minutes"] is None:
                values["release_minutes"] = guild.release_minutes
    check_checkin(values["checkin_minutes"], values["release_minutes"], values["min_players"])
    return values


def create_game(session: Session, new_game: NewGame, *, now: datetime) -> GameSession:
    """Create a game, plan its reminders, status changes and check-in, and announce it."""
    values = _with_server_checkin(session, _validated(vars(new_game).copy(), now))
    game = GameSession(**values, status=GameStatus.SCHEDULED.value)
    session.add(game)
    session.flush()
    _replace_schedule(session, game, now)
    _write_event(session, EventType.GAME_CREATED, game.id)
    return game


def get_game(session: Session, game_id: uuid.UUID, *, for_update: bool = False) -> GameSession:
    """Load a game with its participants in join order; raises GameNotFound."""
    query = select(GameSession).where(GameSession.id == game_id)
    query = query.options(selectinload(GameSession.participants))
    if for_update:
        # Serialises joins, leaves and edits of one game: the last seat goes to one player.
        query = query.with_for_update(of=GameSession)
    game = session.scalars(query).one_or_none()
    if game is None:
        raise GameNotFound(game_id)
    return game


def _open_game(session: Session, game_id: uuid.UUID, act: str) -> GameSession:
    """The game, locked for a roster change; GameNotOpen if it takes none any more."""
    game = get_game(session, game_id, for_update=True)
    if not is_open_for_joining(game.status):
        raise GameNotOpen(game_id, game.status, act)
    return game


def update_game(
    session: Session, game_id: uuid.UUID, changes: dict[str, Any], *, now: datetime
) -> GameSession:
    """Edit a game that has not ended; its schedule follows a change of time or reminders."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"fields that cannot be edited: {', '.join(sorted(unknown))}")
    game = get_game(session, game_id, for_update=True)
    if game.status not in (GameStatus.SCHEDULED, GameStatus.IN_PROGRESS):
        raise GameNotOpen(game_id, game.status, "edit the game")
    if game.status != GameStatus.SCHEDULED and changes.keys() & {
        "scheduled_at",
        "reminder_minutes",
    }:
        raise GameNotOpen(game_id, game.status, "change the start time or reminders")
    values = _validated(changes, now)
    before = _places(game)
    previous_start = game.scheduled_at
    for name, value in values.items():
        setattr(game, name, value)
    check_checkin(game.checkin_minutes, game.release_minutes, game.min_players)
    game.sequence += 1
    game.updated_at = now
    session.flush()
    if values.keys() & SCHEDULE_FIELDS:
        _replace_schedule(session, game, now)
    extra: dict[str, object] = {}
    if game.scheduled_at != previous_start:
        extra["previous_scheduled_at"] = previous_start.isoformat()
    _write_roster_event(session, game, before, **extra)
    return game


def cancel_game(
    session: Session,
    game_id: uuid.UUID,
    *,
    now: datetime,
    cancelled_by: int | None = None,
    reason: str | None = None,
) -> GameSession:
    """Cancel a game that has not ended, drop its pending schedule, and announce it.

    `cancelled_by` (a person, None for the admin) and `reason` are told to the players.
    """
    reason = check_optional_text(reason)
    game = get_game(session, game_id, for_update=True)
    if not is_valid_transition(game.status, GameStatus.CANCELLED):
        raise TransitionNotAllowed(game_id, game.status, GameStatus.CANCELLED.value)
    game.status = GameStatus.CANCELLED.value
    game.sequence += 1
    game.updated_at = now
    session.flush()
    _replace_schedule(session, game, now)
    told = {"cancelled_by": str(cancelled_by) if cancelled_by is not None else None}
    _write_event(session, EventType.GAME_CANCELLED, game.id, **told, reason=reason)
    if game.series_id is not None:
        # The series' next occurrence may now be needed as a game: let its schedule look now.
        session.execute(
            update(SeriesSchedule)
            .where(SeriesSchedule.series_id == game.series_id, ~SeriesSchedule.processed)
            .values(materialize_at=func.now())
        )
    return game


def apply_status_transition(
    session: Session, game_id: uuid.UUID, target_status: str, *, now: datetime
) -> GameSession:
    """Move a game to `target_status` if the status machine allows it; raises otherwise."""
    game = get_game(session, game_id, for_update=True)
    if not is_valid_transition(game.status, target_status):
        raise TransitionNotAllowed(game_id, game.status, target_status)
    game.status = GameStatus(target_status).value
    game.updated_at = now
    return game


def roster_of(game: GameSession) -> Roster[GameParticipant]:
    """The game's confirmed players and waitlist."""
    return build_roster(game.participants, game.max_players)


@dataclass(frozen=True)
class _Places:
    """Who had a seat and who waited, before a change."""

    seated: frozenset[int]
    waiting: frozenset[int]


def _places(game: GameSession) -> _Places:
    roster = roster_of(game)
    return _Places(
        frozenset(p.user_id for p in roster.confirmed if p.user_id is not None),
        frozenset(p.user_id for p in roster.waitlist if p.user_id is not None),
    )


def _write_roster_event(
    session: Session, game: GameSession, before: _Places, **extra: object
) -> None:
    """Announce a change with who it moved: seats won from the waitlist and seats lost to it.

    The bot DMs each of them once (docs/bot.md); ids are decimal strings, as in all JSON.
    """
    roster = roster_of(game)
    promoted = [p.user_id for p in roster.confirmed if p.user_id in before.waiting]
    moved = [p.user_id for p in roster.waitlist if p.user_id in before.seated]
    if promoted:
        extra["promoted"] = [str(u) for u in promoted]
    if moved:
        extra["moved_to_waitlist"] = [str(u) for u in moved]
    _write_event(session, EventType.GAME_UPDATED, game.id, **extra)


def join_game(
    session: Session,
    game_id: uuid.UUID,
    user_id: int,
    *,
    now: datetime,
    display_name: str | None = None,
) -> JoinResult:
    """Add a player; beyond `max_players` they go on the waitlist in join order."""
    check_snowflake("user_id", user_id)
    display_name = check_display_name(display_name)
    game = _open_game(session, game_id, "join")
    if any(p.user_id == user_id for p in game.participants):
        raise AlreadyJoined(game_id, user_id)
    participant = GameParticipant(game_id=game.id, user_id=user_id, display_name=display_name)
    game.participants.append(participant)
    game.updated_at = now
    session.flush()
    session.refresh(participant)  # joined_at comes from the database
    _write_event(session, EventType.GAME_UPDATED, game.id, joined=str(user_id))
    return JoinResult(participant, roster_of(game).waitlist_position(participant))


def leave_game(session: Session, game_id: uuid.UUID, user_id: int, *, now: datetime) -> GameSession:
    """Remove a player; the first on the waitlist moves up."""
    game = _open_game(session, game_id, "leave")
    participant = next((p for p in game.participants if p.user_id == user_id), None)
    if participant is None:
        raise NotJoined(game_id, user_id)
    before = _places(game)
    was_full = game.max_players is not None and len(game.participants) >= game.max_players
    game.participants.remove(participant)
    game.updated_at = now
    session.flush()
    full = was_full and user_id in before.seated
    _write_roster_event(session, game, before, left=str(user_id), left_full=full)
    return game


def release_players(
    session: Session, game_id: uuid.UUID, user_ids: Sequence[int], *, now: datetime
) -> GameSession:
    """Take seats from players who did not check in (the release); the waitlist moves up."""
    game = get_game(session, game_id, for_update=True)
    before = _places(game)
    for participant in [p for p in game.participants if p.user_id in set(user_ids)]:
        game.participants.remove(participant)
    game.updated_at = now
    session.flush()
    _write_roster_event(session, game, before, released=[str(u) for u in user_ids])
    return game


def add_placeholder(
    session: Session, game_id: uuid.UUID, display_name: str, *, now: datetime
) -> JoinResult:
    """Hold a seat for someone who is not on Discord: a named player without a user id."""
    name = clean_text(display_name).strip()
    if not has_visible_text(name):
        raise InvalidField("display_name", "must name the person the seat is for")
    game = _open_game(session, game_id, "add a player")
    participant = GameParticipant(game_id=game.id, user_id=None, display_name=name)
    game.participants.append(participant)
    game.updated_at = now
    session.flush()
    session.refresh(participant)
    _write_event(session, EventType.GAME_UPDATED, game.id)
    return JoinResult(participant, roster_of(game).waitlist_position(participant))


def _participant(game: GameSession, participant_id: uuid.UUID) -> GameParticipant:
    found = next((p for p in game.participants if p.id == participant_id), None)
    if found is None:
        raise ParticipantNotFound(game.id, participant_id)
    return found


def remove_participant(
    session: Session, game_id: uuid.UUID, participant_id: uuid.UUID, *, now: datetime
) -> GameSession:
    """Take a player or placeholder off the roster (a host's act); the waitlist moves up."""
    game = _open_game(session, game_id, "remove a player")
    before = _places(game)
    removed = _participant(game, participant_id)
    game.participants.remove(removed)
    game.updated_at = now
    session.flush()
    told = [str(removed.user_id)] if removed.user_id is not None else []
    _write_roster_event(session, game, before, removed=told)
    return game


def move_up(
    session: Session, game_id: uuid.UUID, participant_id: uuid.UUID, *, now: datetime
) -> GameSession:
    """Swap a player with the one before them; the first waiting player moves into a seat."""
    game = _open_game(session, game_id, "change the order")
    before = _places(game)
    moving = _participant(game, participant_id)
    place = game.participants.index(moving)
    if place == 0:
        raise NotOnRoster(game_id, "this player is already first")
    ahead = game.participants[place - 1]
    # The roster is join order, so moving up is trading join times with the one ahead.
    moving.joined_at, ahead.joined_at = ahead.joined_at, moving.joined_at
    if moving.joined_at == ahead.joined_at:
        moving.joined_at = ahead.joined_at - timedelta(microseconds=1)
    game.updated_at = now
    session.flush()
    session.expire(game, ["participants"])
    _write_roster_event(session, game, before, reordered=True)
    return game


def games_of_user(
    session: Session, user_id: int, guild_ids: Sequence[int], *, limit: int = 50
) -> list[GameSession]:
    """Games not yet over that a person hosts or joined in these servers, soonest first."""
    if not guild_ids:
        return []
    joined = select(GameParticipant.game_id).where(GameParticipant.user_id == user_id)
    query = (
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(
            GameSession.guild_id.in_(list(guild_ids)),
            GameSession.status.in_([GameStatus.SCHEDULED.value, GameStatus.IN_PROGRESS.value]),
            (GameSession.host_id == user_id) | GameSession.id.in_(joined),
        )
        .order_by(GameSession.scheduled_at, GameSession.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def games_of_guild(
    session: Session,
    guild_id: int,
    *,
    upcoming: bool,
    status: str | None = None,
    search: str | None = None,
    limit: int = 50,
) -> list[GameSession]:
    """A server's upcoming games (soonest first) or its finished ones (latest first)."""
    open_statuses = [GameStatus.SCHEDULED.value, GameStatus.IN_PROGRESS.value]
    query = select(GameSession).options(selectinload(GameSession.participants))
    query = query.where(GameSession.guild_id == guild_id)
    if upcoming:
        query = query.where(GameSession.status.in_(open_statuses))
        query = query.order_by(GameSession.scheduled_at, GameSession.id)
    else:
        query = query.where(GameSession.status.not_in(open_statuses))
        query = query.order_by(GameSession.scheduled_at.desc(), GameSession.id)
    if status is not None:
        query = query.where(GameSession.status == status)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(GameSession.title.ilike(f"%{escaped}%", escape="\\"))
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class GamePage:
    """One page of games and the cursor of the next, None on the last page."""

    games: list[GameSession]
    next_cursor: tuple[datetime, uuid.UUID] | None


def list_games(
    session: Session,
    *,
    guild_id: int | None = None,
    status: str | None = None,
    series_id: uuid.UUID | None = None,
    limit: int = 50,
    after: tuple[datetime, uuid.UUID] | None = None,
    guild_ids: Sequence[int] | None = None,
) -> GamePage:
    """Games in a stable order (start time, then id), a page at a time, keyset-paginated.

    `guild_ids`, when given, keeps only those servers' games (a person's servers).
    """
    query = select(GameSession).options(selectinload(GameSession.participants))
    if guild_id is not None:
        query = query.where(GameSession.guild_id == guild_id)
    if guild_ids is not None:
        query = query.where(GameSession.guild_id.in_(list(guild_ids)))
    if status is not None:
        query = query.where(GameSession.status == status)
    if series_id is not None:
        query = query.where(GameSession.series_id == series_id)
    if after is not None:
        query = query.where(func.row(GameSession.scheduled_at, GameSession.id) > func.row(*after))
    query = query.order_by(GameSession.scheduled_at, GameSession.id).limit(limit + 1)
    games = list(session.scalars(query))
    if len(games) <= limit:
        return GamePage(games, None)
    last = games[limit - 1]
    return GamePage(games[:limit], (last.scheduled_at, last.id))
