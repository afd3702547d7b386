"""Games as RFC 5545 calendars, built with the `icalendar` library (never by hand).

Pure: a feed is made from `CalendarEntry` values the caller loaded, so the same bytes
come out for the same games, and a feed's ETag is the hash of those bytes. Nothing here
reads the clock: DTSTAMP is each game's last change, as RFC 5545 asks of a feed that has
no METHOD.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vDuration

PRODID = "-//Game Scheduler//Game Scheduler calendar//EN"
UID_DOMAIN = "game-scheduler"
# Calendar clients that honour it poll no more often than this.
REFRESH_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEntry:
    """One game as a calendar shows it, detached from the database."""

    game_id: uuid.UUID
    title: str
    status: str
    scheduled_at: datetime
    duration_minutes: int
    sequence: int
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    where: str | None = None
    signup_instructions: str | None = None
    players: str | None = None  # "3/5", never names: feeds leave their servers
    message_url: str | None = None
    game_url: str | None = None  # the game's own .ics, when the message is not posted yet
    alarm_minutes: int | None = None  # the reader's first reminder, before the start

    @property
    def ends_at(self) -> datetime:
        """When the game is expected to end."""
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)


def game_uid(game_id: uuid.UUID) -> str:
    """The UID a game keeps in every feed for its whole life."""
    return f"{game_id}@{UID_DOMAIN}"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def description_text(entry: CalendarEntry) -> str:
    """The event's DESCRIPTION: the host's text, how to sign up, the players, the link."""
    parts: list[str] = []
    if entry.description:
        parts.append(entry.description)
    if entry.signup_instructions:
        parts.append(f"How to sign up: {entry.signup_instructions}")
    if entry.players:
        parts.append(f"Players: {entry.players}")
    if entry.message_url:
        parts.append(f"Join or leave in Discord: {entry.message_url}")
    return "\n\n".join(parts)


def event_of(entry: CalendarEntry) -> Event:
    """One VEVENT for a game, with its first reminder as a VALARM unless cancelled."""
    event = Event()
    event.add("uid", game_uid(entry.game_id))
    event.add("dtstamp", _utc(entry.updated_at))
    event.add("created", _utc(entry.created_at))
    event.add("last-modified", _utc(entry.updated_at))
    event.add("sequence", entry.sequence)
    event.add("summary", entry.title)
    event.add("dtstart", _utc(entry.scheduled_at))
    event.add("dtend", _utc(entry.ends_at))
    cancelled = entry.status == "CANCELLED"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if entry.where:
        event.add("location", entry.where)
    description = description_text(entry)
    if description:
        event.add("description", description)
    url = entry.message_url or entry.game_url
    if url:
        event.add("url", url)
    if entry.alarm_minutes is not None and not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", entry.title)
        alarm.add("trigger", timedelta(minutes=-entry.alarm_minutes))
        event.add_component(alarm)
    return event


def build_calendar(entries: Iterable[CalendarEntry], *, name: str) -> bytes:
    """A whole VCALENDAR of `entries`, folded at 75 octets, as the bytes to serve."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    for entry in sorted(entries, key=lambda e: (e.scheduled_at, str(e.game_id))):
        calendar.add_component(event_of(entry))
    body: bytes = calendar.to_ical()
    return body


def etag_of(body: bytes) -> str:
    """A strong ETag for a feed's bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match header names `etag` (or is `*`), weak or strong."""
    if not if_none_match:
        return False
    candidates: Sequence[str] = [c.strip() for c in if_none_match.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)
