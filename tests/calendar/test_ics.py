"""Calendars built from games: every one parsed back with icalendar and checked field by field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from game_scheduler.calendar.ics import (
    CalendarEntry,
    build_calendar,
    etag_matches,
    etag_of,
    game_uid,
)
from game_scheduler.calendar.links import google_calendar_url

GAME_ID = uuid.UUID("6f1c2f0e-0000-4000-8000-000000000001")
START = datetime(2031, 3, 7, 19, 0, tzinfo=UTC)


def entry(**fields: object) -> CalendarEntry:
    values: dict[str, object] = {
        "game_id": GAME_ID,
        "title": "Catan night",
        "status": "SCHEDULED",
        "scheduled_at": START,
        "duration_minutes": 90,
        "sequence": 0,
        "created_at": START - timedelta(days=3),
        "updated_at": START - timedelta(days=2),
        "where": "Discord voice: Tavern",
        "players": "2/4",
        "message_url": "https://discord.com/channels/1/2/3",
        "alarm_minutes": 60,
    }
    values.update(fields)
    return CalendarEntry(**values)  # type: ignore[arg-type]


def only_event(body: bytes) -> Component:
    [event] = Calendar.from_ical(body).walk("VEVENT")
    return event


def test_a_game_becomes_one_event_with_every_field() -> None:
    event = only_event(build_calendar([entry()], name="My games"))

    assert str(event["uid"]) == f"{GAME_ID}@game-scheduler"
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == START + timedelta(minutes=90)
    assert str(event["summary"]) == "Catan night"
    assert str(event["location"]) == "Discord voice: Tavern"
    assert str(event["url"]) == "https://discord.com/channels/1/2/3"
    assert str(event["status"]) == "CONFIRMED"
    assert event.decoded("sequence") == 0
    assert event.decoded("last-modified") == START - timedelta(days=2)
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-60)
    assert "Players: 2/4" in str(event["description"])


def test_times_are_utc_whatever_zone_they_came_in() -> None:
    paris = START.astimezone(ZoneInfo("Europe/Paris"))
    body = build_calendar([entry(scheduled_at=paris)], name="x")
    assert b"DTSTART:20310307T190000Z" in body
    assert b"TZID" not in body


def test_a_cancelled_game_is_cancelled_and_rings_no_alarm() -> None:
    event = only_event(build_calendar([entry(status="CANCELLED", sequence=3)], name="x"))
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("sequence") == 3
    assert event.walk("VALARM") == []


def test_uid_is_the_same_in_every_build() -> None:
    first = only_event(build_calendar([entry()], name="a"))
    second = only_event(build_calendar([entry(title="Renamed", sequence=1)], name="b"))
    assert first["uid"] == second["uid"] == game_uid(GAME_ID)


def test_long_emoji_and_rtl_description_folds_and_reads_back() -> None:
    text = ("שלום עולם 🎲🐉 مرحبا بالعالم " * 200)[:4000]
    body = build_calendar([entry(description=text, title="🎲 " + "ليلة" * 20)], name="x")

    body.decode("utf-8")  # folding never splits a character
    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert all(not line or line[:1] == b" " or b":" in line or b";" in line for line in lines)
    event = only_event(body)
    assert str(event["description"]).startswith(text)
    assert str(event["summary"]) == "🎲 " + "ليلة" * 20


def test_the_feed_tells_clients_how_often_to_look() -> None:
    calendar = Calendar.from_ical(build_calendar([], name="My games"))
    assert str(calendar["x-wr-calname"]) == "My games"
    assert calendar.decoded("refresh-interval") == timedelta(hours=1)
    assert str(calendar["version"]) == "2.0"


def test_the_same_games_give_the_same_bytes_and_etag() -> None:
    assert build_calendar([entry()], name="x") == build_calendar([entry()], name="x")
    edited = build_calendar([entry(sequence=1)], name="x")
    assert etag_of(build_calendar([entry()], name="x")) != etag_of(edited)


def test_if_none_match_accepts_lists_weak_tags_and_star() -> None:
    tag = etag_of(b"body")
    assert etag_matches(tag, tag)
    assert etag_matches(f'"other", W/{tag}', tag)
    assert etag_matches("*", tag)
    assert not etag_matches('"other"', tag)
    assert not etag_matches(None, tag)


def test_google_link_fills_in_the_form() -> None:
    url = google_calendar_url(entry(description="x" * 5000))
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == "calendar.google.com"
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Catan night"]
    assert query["dates"] == ["20310307T190000Z/20310307T203000Z"]
    assert query["location"] == ["Discord voice: Tavern"]
    assert len(query["details"][0]) <= 1500
