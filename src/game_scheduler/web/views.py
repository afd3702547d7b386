"""What templates show, prepared at the door: times in the viewer's zone, labels chosen.

Templates stay free of logic: every string a page shows about a game is made here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from game_scheduler.calendar.links import game_google_url, game_ics_url
from game_scheduler.db.models import GameParticipant, GameSession
from game_scheduler.domain.permissions import may_edit_game
from game_scheduler.domain.schedule_plan import DEFAULT_DURATION_MINUTES
from game_scheduler.domain.status import GameStatus, is_open_for_joining
from game_scheduler.games.service import roster_of
from game_scheduler.web.viewer import ServerAccess, Viewer

STATUS_LABELS = {
    GameStatus.SCHEDULED: "Scheduled",
    GameStatus.IN_PROGRESS: "In progress",
    GameStatus.COMPLETED: "Completed",
    GameStatus.CANCELLED: "Cancelled",
}
REMINDER_CHOICES = ((1440, "1 day"), (120, "2 hours"), (60, "1 hour"), (15, "15 minutes"))
# The create form's "Repeat" choice: the value is `rule_for_repeat`'s.
REPEAT_CHOICES = (
    ("", "Does not repeat"),
    ("weekly", "Every week"),
    ("biweekly", "Every 2 weeks"),
    ("monthly", "Monthly, on this weekday (e.g. the 3rd Friday)"),
)


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def zone_named(name: str | None) -> ZoneInfo:
    """The IANA zone of that name; UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def viewer_zone(viewer: Viewer, server_zone: str | None) -> ZoneInfo:
    """The zone a person reads times in: their own, else the server's, else UTC."""
    return zone_named(viewer.timezone or server_zone)


def show_time(moment: datetime, zone: ZoneInfo) -> str:
    """`Fri 15 Jan 2027, 20:00 (Europe/Berlin)`: an instant as people in `zone` read it."""
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y, %H:%M} ({zone.key})"


def show_minutes(minutes: int) -> str:
    """`1 day`, `2 hours`, `90 minutes`: a span of minutes in the largest exact unit."""
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{minutes} minutes"


@dataclass(frozen=True)
class PlayerView:
    """One line of a roster."""

    participant_id: uuid.UUID
    name: str
    is_placeholder: bool
    is_viewer: bool
    place: int  # 1-based, over the whole roster: confirmed first, then the waitlist
    waitlist_position: int | None


@dataclass(frozen=True)
class GameCard:
    """A game in a list: enough to recognise it and go to it."""

    game_id: uuid.UUID
    title: str
    when: str
    status: str
    status_key: str
    seats: str
    server_name: str
    my_place: str | None
    not_posted: bool = False  # the bot could not post or edit its message (post_error)


@dataclass(frozen=True)
class GameView:
    """Everything a game's page shows and which of its buttons the viewer gets."""

    card: GameCard
    description: str | None
    where: str | None
    signup_instructions: str | None
    duration: str
    reminders: str
    host_name: str
    channel_name: str
    message_url: str | None
    post_error: str | None
    calendar_file_url: str  # the game's own .ics, served by this process
    google_calendar_url: str
    confirmed: tuple[PlayerView, ...]
    waitlist: tuple[PlayerView, ...]
    may_join: bool
    may_leave: bool
    may_manage: bool
    may_edit: bool
    may_cancel: bool


def _name(participant: GameParticipant, names: Mapping[int, str]) -> str:
    if participant.user_id is None:
        return participant.display_name or "Guest"
    return (
        names.get(participant.user_id) or participant.display_name or f"User {participant.user_id}"
    )


def my_place(game: GameSession, user_id: int) -> str | None:
    """`Hosting`, `Confirmed` or `Waitlist #2` for the viewer, None when not in the game."""
    roster = roster_of(game)
    mine = next((p for p in game.participants if p.user_id == user_id), None)
    if mine is not None:
        position = roster.waitlist_position(mine)
        return f"Waitlist #{position}" if position else "Confirmed"
    return "Hosting" if game.host_id == user_id else None


def game_card(game: GameSession, viewer: Viewer, server: ServerAccess, zone: ZoneInfo) -> GameCard:
    """A game as a list shows it."""
    roster = roster_of(game)
    taken = len(roster.confirmed)
    seats = f"{taken}/{game.max_players}" if game.max_players else f"{taken} players"
    if roster.waitlist:
        seats += f", {len(roster.waitlist)} waiting"
    status = GameStatus(game.status)
    return GameCard(
        game_id=game.id,
        title=game.title,
        when=show_time(game.scheduled_at, zone),
        status=STATUS_LABELS[status],
        status_key=status.value.lower(),
        seats=seats,
        server_name=server.name,
        my_place=my_place(game, viewer.user_id),
        not_posted=game.post_error is not None,
    )


def game_view(
    game: GameSession,
    viewer: Viewer,
    server: ServerAccess,
    zone: ZoneInfo,
    *,
    names: Mapping[int, str],
    channel_name: str,
    message_url: str | None,
) -> GameView:
    """A game's page for this viewer."""
    roster = roster_of(game)
    is_open = is_open_for_joining(game.status)
    may_manage = may_edit_game(viewer.user_id, server.rights, game.host_id) and is_open

    def line(p: GameParticipant, place: int, position: int | None) -> PlayerView:
        return PlayerView(
            participant_id=p.id,
            name=_name(p, names),
            is_placeholder=p.user_id is None,
            is_viewer=p.user_id == viewer.user_id,
            place=place,
            waitlist_position=position,
        )

    confirmed = tuple(line(p, i, None) for i, p in enumerate(roster.confirmed, start=1))
    waitlist = tuple(line(p, len(confirmed) + i, i) for i, p in enumerate(roster.waitlist, start=1))
    joined = any(p.user_id == viewer.user_id for p in game.participants)
    reminders = ", ".join(show_minutes(m) + " before" for m in game.reminder_minutes) or "None"
    return GameView(
        card=game_card(game, viewer, server, zone),
        description=game.description,
        where=game.where,
        signup_instructions=game.signup_instructions,
        duration=show_minutes(game.expected_duration_minutes or DEFAULT_DURATION_MINUTES),
        reminders=reminders,
        host_name=names.get(game.host_id) or f"User {game.host_id}",
        channel_name=channel_name,
        message_url=message_url,
        post_error=game.post_error,
        # Relative: the dashboard and the calendar routes are served by the same process.
        calendar_file_url=game_ics_url("", game.id),
        google_calendar_url=game_google_url("", game.id),
        confirmed=confirmed,
        waitlist=waitlist,
        may_join=is_open and not joined,
        may_leave=is_open and joined,
        may_manage=may_manage,
        may_edit=may_manage,
        may_cancel=may_manage,
    )
