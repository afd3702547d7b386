"""What makes a game's fields valid, with messages a person can act on."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import MINYEAR, UTC, datetime, timedelta

from game_scheduler.domain.ids import MAX_SNOWFLAKE
from game_scheduler.domain.schedule_plan import MAX_REMINDER_MINUTES

MAX_TITLE_LENGTH = 200
MAX_PLAYERS_LIMIT = 100
MAX_DURATION_MINUTES = 7 * 24 * 60
MAX_REMINDERS = 10
# A horizon keeps every planned time (start plus a week of duration) far inside what
# datetime and timestamptz can hold: year 9999 plus a duration used to overflow (a 500).
MAX_SCHEDULE_AHEAD = timedelta(days=5 * 366)


# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text
# show in an order other than the one it has ("evil.exe" shown as "exe.live"): they are
# removed from every text a person types. Marks (U+200E, U+200F) only hint a direction
# and stay, as do zero-width joiners, which emoji sequences need.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_WITHOUT_BIDI_CONTROLS = {ord(c): None for c in BIDI_CONTROLS}
# Letters that render as nothing; Unicode calls them letters, so categories miss them.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def clean_text(value: str) -> str:
    """The text without bidirectional override and isolate characters."""
    return value.translate(_WITHOUT_BIDI_CONTROLS)


def is_visible(char: str) -> bool:
    """False for spaces, control and format characters (zero-width space, ...) and blanks."""
    if char.isspace() or char in _INVISIBLE_LETTERS:
        return False
    return unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn")


def has_visible_text(value: str) -> bool:
    """True when at least one character would show."""
    return any(is_visible(char) for char in value)


class InvalidField(ValueError):
    """A field of a game that breaks a rule; `field` names it, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_snowflake(field: str, value: int) -> int:
    """A Discord id: a positive integer that fits in 63 bits."""
    if not 0 < value <= MAX_SNOWFLAKE:
        raise InvalidField(field, "must be a Discord id (a positive 64-bit integer)")
    return value


def check_title(title: str) -> str:
    """A title of 1 to 200 characters after cleaning and trimming, with something visible."""
    title = clean_text(title).strip()
    if not 1 <= len(title) <= MAX_TITLE_LENGTH:
        raise InvalidField("title", f"must be 1 to {MAX_TITLE_LENGTH} characters")
    if not has_visible_text(title):
        raise InvalidField(
            "title", "must have a visible character; zero-width and blank characters do not count"
        )
    return title


def check_display_name(name: str | None) -> str | None:
    """A player's name, cleaned; a name with nothing visible is refused."""
    if name is None:
        return None
    name = clean_text(name).strip()
    if not has_visible_text(name):
        raise InvalidField("display_name", "must have a visible character")
    return name


def check_optional_text(value: str | None) -> str | None:
    """A description, place or sign-up text, cleaned of bidirectional controls."""
    return None if value is None else clean_text(value)


def check_scheduled_at(scheduled_at: datetime, now: datetime) -> datetime:
    """A start time with a timezone, in the future but at most 5 years ahead; returned in UTC."""
    if scheduled_at.tzinfo is None or scheduled_at.utcoffset() is None:
        raise InvalidField("scheduled_at", "must include a timezone offset, e.g. +00:00")
    try:
        # UTC, because PostgreSQL refuses offsets that Python accepts (beyond +/-15:59).
        scheduled_at = scheduled_at.astimezone(UTC)
    except OverflowError:
        # Only year 1 or 9999 with an offset leaves datetime's range.
        too_early = scheduled_at.year == MINYEAR
        reason = "must be in the future" if too_early else "must be at most 5 years ahead"
        raise InvalidField("scheduled_at", reason) from None
    if scheduled_at <= now:
        raise InvalidField("scheduled_at", "must be in the future")
    if scheduled_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidField("scheduled_at", "must be at most 5 years ahead")
    return scheduled_at


def check_reminder_minutes(minutes: Sequence[int]) -> list[int]:
    """At most 10 distinct reminder offsets, each 1 to 10,080 minutes; largest first."""
    if len(minutes) > MAX_REMINDERS:
        raise InvalidField("reminder_minutes", f"at most {MAX_REMINDERS} reminders")
    if len(set(minutes)) != len(minutes):
        raise InvalidField("reminder_minutes", "must not repeat a value")
    for m in minutes:
        if not 1 <= m <= MAX_REMINDER_MINUTES:
            raise InvalidField(
                "reminder_minutes", f"each must be 1 to {MAX_REMINDER_MINUTES} minutes"
            )
    return sorted(minutes, reverse=True)


def check_max_players(max_players: int | None) -> int | None:
    """1 to 100 players, or no limit."""
    if max_players is not None and not 1 <= max_players <= MAX_PLAYERS_LIMIT:
        raise InvalidField("max_players", f"must be 1 to {MAX_PLAYERS_LIMIT}, or absent")
    return max_players


def check_duration(minutes: int | None) -> int | None:
    """A positive duration of at most a week, or unset (60 minutes)."""
    if minutes is not None and not 1 <= minutes <= MAX_DURATION_MINUTES:
        raise InvalidField(
            "expected_duration_minutes", f"must be 1 to {MAX_DURATION_MINUTES} minutes"
        )
    return minutes
