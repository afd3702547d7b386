"""Read times, durations and reminders as people type them, in a given time zone.

`read_when("friday 8pm", now=..., zone="Europe/Berlin")` gives a `WhenReading` (a UTC
instant, the local wall-clock time it came from, and a note when the reading had to choose)
or an `Unreadable` with a reason a person can act on. Nothing here asks the clock: `now` is
an argument. dateparser reads the words; the wall-clock-to-instant step is ours, so that a
time that does not exist (spring forward) or happens twice (fall back) is noticed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import dateparser

EXAMPLES = "`friday 20:00`, `tomorrow 19:30`, `in 2 hours` or `2027-01-15 20:00`"
MINUTES_PER_UNIT = {
    "w": 7 * 24 * 60,
    "d": 24 * 60,
    "h": 60,
    "m": 1,
}
_UNIT_NAMES = {
    "w": "w",
    "wk": "w",
    "wks": "w",
    "week": "w",
    "weeks": "w",
    "d": "d",
    "day": "d",
    "days": "d",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
}
_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]*)")
_CLOCK_DURATION = re.compile(r"^(\d{1,3}):([0-5]\d)$")
_RELATIVE = re.compile(r"^in\s+(.+)$")
_HAS_TIME_OF_DAY = re.compile(r"\d|noon|midnight|morning|evening|night|afternoon")
_WORDS_WE_KNOW = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "tomorrow",
    "tonight",
    "next",
    "noon",
    "midnight",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "hours",
    "minutes",
    "days",
    "weeks",
]
_WEEKDAYS = _WORDS_WE_KNOW[:7]
_NO_REMINDERS = frozenset({"none", "no", "off", "-", "0"})


class LocalKind(Enum):
    """How a wall-clock time maps to instants in a zone."""

    NORMAL = "normal"  # exactly one instant
    MISSING = "missing"  # none: the clocks skip it (spring forward)
    AMBIGUOUS = "ambiguous"  # two: the clocks pass it twice (fall back)


@dataclass(frozen=True)
class LocalTime:
    """A wall-clock time placed in a zone: the instant chosen and how it was chosen.

    For a missing time, `local` is the next valid one (the wall clock moved on by the
    size of the gap, 02:30 -> 03:30); for an ambiguous one, the first of the two.
    """

    local: datetime  # aware, in the zone
    kind: LocalKind

    @property
    def instant(self) -> datetime:
        """The instant in UTC."""
        return self.local.astimezone(UTC)


@dataclass(frozen=True)
class WhenReading:
    """A time read from text: when it is, as the person's zone shows it, and any choice made."""

    instant: datetime  # UTC
    local: datetime  # aware, in the zone it was read in
    note: str | None = None  # set when the text allowed two readings and one was taken


@dataclass(frozen=True)
class Unreadable:
    """Text that is not a usable time, duration or reminder list, and why."""

    reason: str
    suggestion: datetime | None = None  # an instant (UTC) offered instead, if there is one


def zone_of(name: str) -> ZoneInfo | None:
    """The IANA zone with this name, or None when there is none."""
    if not name or name.strip() != name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted, for choosing one."""
    return tuple(sorted(available_timezones()))


def matching_zones(text: str, limit: int = 25) -> list[str]:
    """Zone names containing `text` (case and spaces ignored), best matches first."""
    needle = text.strip().lower().replace(" ", "_")
    names = zone_names()
    if not needle:
        return list(names[:limit])
    starts = [n for n in names if n.lower().startswith(needle)]
    parts = [n for n in names if n not in starts and needle in n.lower()]
    found = starts + parts
    if not found:
        found = difflib.get_close_matches(text, names, n=limit, cutoff=0.5)
    return found[:limit]


def place_local(naive: datetime, zone: tzinfo) -> LocalTime:
    """Place a wall-clock time in a zone, noticing times that are skipped or repeated."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return LocalTime(first, LocalKind.NORMAL)
    # fold=0 takes the offset in force before the change. In a gap that lands past the
    # gap (02:30 + one hour = 03:30); in an overlap it is the first of the two instants.
    back = first.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:
        return LocalTime(back, LocalKind.MISSING)
    return LocalTime(first, LocalKind.AMBIGUOUS)


def describe_local(local: datetime) -> str:
    """A local time as people read it: `Friday 4 December 2026, 20:00 (UTC+01:00)`."""
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    when = f"{local:%A} {local.day} {local:%B %Y, %H:%M}"
    return f"{when} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def read_when(text: str, *, now: datetime, zone: str) -> WhenReading | Unreadable:
    """Read a start time in `zone` relative to `now`; a future UTC instant or why not."""
    tz = zone_of(zone)
    if tz is None:
        return Unreadable(
            f"`{zone}` is not a time zone I know: use an IANA name like Europe/Berlin"
        )
    cleaned = " ".join(text.split())
    if not cleaned:
        return Unreadable(f"a time is needed: try {EXAMPLES}")
    now_local = now.astimezone(tz)
    relative = _read_relative(cleaned, now, tz)
    if relative is not None:
        return relative
    naive = _parse_words(cleaned, now_local)
    if naive is None:
        return Unreadable(_unparseable_reason(cleaned, now_local))
    if not _HAS_TIME_OF_DAY.search(cleaned.lower()) and naive.time() == datetime.min.time():
        day = f"{naive:%A} {naive.day} {naive:%B %Y}"
        return Unreadable(
            f"I read '{cleaned}' as {day} but found no time of day: "
            f"try `{cleaned} 20:00` or `{cleaned} 8pm`"
        )
    naive = _this_weekday_if_still_ahead(cleaned, naive, now_local)
    return _finish(cleaned, naive, place_local(naive, tz), now, zone)


def _finish(
    text: str, naive: datetime, placed: LocalTime, now: datetime, zone: str
) -> WhenReading | Unreadable:
    wall = placed.local
    if placed.kind is LocalKind.MISSING:
        return Unreadable(
            f"{naive:%H:%M} does not exist on {wall:%A} {wall.day} {wall:%B %Y} in {zone}: "
            f"the clocks go forward that night. Did you mean {wall:%H:%M}? "
            f"Try `{wall:%Y-%m-%d %H:%M}`",
            suggestion=placed.instant,
        )
    if placed.instant <= now:
        return Unreadable(
            f"I read '{text}' as {describe_local(wall)}, which is in the past: "
            f"give a future time, e.g. {EXAMPLES}"
        )
    note = None
    if placed.kind is LocalKind.AMBIGUOUS:
        note = (
            f"{wall:%H:%M} happens twice that night in {zone} (the clocks go back); "
            f"I took the first, {describe_local(wall)}, not the second "
            f"({describe_local(wall.replace(fold=1))})"
        )
    return WhenReading(instant=placed.instant, local=wall, note=note)


def _read_relative(text: str, now: datetime, tz: ZoneInfo) -> WhenReading | Unreadable | None:
    """`in 2 hours`, `in 90m`, `in 3 days`: hours and minutes as elapsed time, days on the wall."""
    match = _RELATIVE.match(text.lower())
    if match is None:
        return None
    parts = _duration_parts(match.group(1))
    if parts is None:
        return None
    days = parts.get("w", 0) * 7 + parts.get("d", 0)
    minutes = parts.get("h", 0) * 60 + parts.get("m", 0)
    if days == 0 and minutes == 0:
        return Unreadable(f"'{text}' is now, not a time ahead: try `in 2 hours`")
    start = now
    if days:
        # Days keep the time of day across a clock change, as people count them.
        wall = now.astimezone(tz).replace(tzinfo=None) + timedelta(days=days)
        start = place_local(wall, tz).instant
    instant = start + timedelta(minutes=minutes)
    return WhenReading(instant=instant, local=instant.astimezone(tz))


@cache
def _settings(base: datetime) -> dict[str, object]:
    return {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
    }


def _parse_words(text: str, now_local: datetime) -> datetime | None:
    """The wall-clock time (in now_local's zone) the words name, or None."""
    base = now_local.replace(tzinfo=None, microsecond=0)
    # Parsed twice, as if the wall clock were in two different zones: a text that names
    # its own zone or offset (`20:00 UTC`) gives the same instant both times, and is
    # converted; any other text is a wall-clock time that we place in the zone ourselves,
    # so that dateparser never shifts a time that does not exist.
    first = _dateparser(text, base, "UTC")
    if first is None:
        return None
    second = _dateparser(text, base, "Etc/GMT-5")
    if second is not None and first == second:
        return first.astimezone(now_local.tzinfo).replace(tzinfo=None, microsecond=0)
    return first.replace(tzinfo=None, microsecond=0)


def _dateparser(text: str, base: datetime, zone: str) -> datetime | None:
    settings = {**_settings(base), "TIMEZONE": zone, "RETURN_AS_TIMEZONE_AWARE": True}
    try:
        return dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError):
        return None


def _this_weekday_if_still_ahead(text: str, naive: datetime, now_local: datetime) -> datetime:
    """`wednesday 8pm` said on a Wednesday morning means tonight, not in a week."""
    today = _WEEKDAYS[now_local.weekday()]
    words = text.lower().split()
    if today not in words or "next" in words:
        return naive
    earlier = naive - timedelta(days=7)
    if earlier.date() == now_local.date() and earlier > now_local.replace(tzinfo=None):
        return earlier
    return naive


def _unparseable_reason(text: str, now_local: datetime) -> str:
    understood: list[str] = []
    unknown: list[str] = []
    for word in text.split():
        known_word = word.lower() in _WORDS_WE_KNOW
        if known_word or (not word.isalpha() and _parse_words(word, now_local) is not None):
            understood.append(word)
        else:
            unknown.append(word)
    fixed = [_closest_word(w) or w for w in text.split()]
    suggestion = " ".join(fixed)
    if suggestion != text and _parse_words(suggestion, now_local) is not None:
        example = f"`{suggestion}`"
    else:
        example = EXAMPLES
    if understood and unknown:
        known = ", ".join(f"'{w}'" for w in understood)
        strange = ", ".join(f"'{w}'" for w in unknown)
        return (
            f"I read '{text}' as no time I know: {known} I understood, "
            f"{strange} I did not. Try {example}"
        )
    return f"I read '{text}' as no time I know. Try {example}"


def _closest_word(word: str) -> str | None:
    if word.lower() in _WORDS_WE_KNOW or not word.isalpha():
        return None
    close = difflib.get_close_matches(word.lower(), _WORDS_WE_KNOW, n=1, cutoff=0.7)
    return close[0] if close else None


def _duration_parts(text: str) -> dict[str, int] | None:
    """`1h30` -> {"h": 1, "m": 30}; None when the text is not a duration."""
    text = text.strip().lower().replace(" and ", " ")
    clock = _CLOCK_DURATION.match(text)
    if clock:
        return {"h": int(clock.group(1)), "m": int(clock.group(2))}
    parts: dict[str, int] = {}
    position = 0
    previous: str | None = None
    for match in _DURATION_PART.finditer(text):
        between = text[position : match.start()]
        if between.strip(" ,"):
            return None
        position = match.end()
        number, unit_word = match.group(1).replace(",", "."), match.group(2)
        if unit_word:
            unit = _UNIT_NAMES.get(unit_word)
            if unit is None:
                return None
        else:
            # A bare number after hours is minutes (1h30); alone it is minutes (90).
            unit = "m"
            if previous not in (None, "h"):
                return None
        if unit in parts:
            return None
        amount = float(number)
        if amount.is_integer():
            parts[unit] = int(amount)
        else:
            # 1.5h is 90 minutes: a fraction is counted in minutes, which must come out whole.
            minutes = amount * MINUTES_PER_UNIT[unit]
            if not minutes.is_integer():
                return None
            parts["m"] = parts.get("m", 0) + int(minutes)
        previous = unit
    if position == 0 or text[position:].strip():
        return None
    return parts


def read_duration(text: str) -> int | Unreadable:
    """Minutes from `90m`, `1h30`, `1h 30m`, `2 hours`, `1:30` or `90`."""
    parts = _duration_parts(text)
    if parts is None:
        return Unreadable(
            f"I read '{text.strip()}' as no duration I know: try `90m`, `1h30` or `2h`"
        )
    return sum(MINUTES_PER_UNIT[unit] * amount for unit, amount in parts.items())


def read_reminders(text: str) -> list[int] | Unreadable:
    """Minutes before the start from `1d, 2h, 15m`; `none` for no reminders."""
    cleaned = text.strip().lower()
    if cleaned in _NO_REMINDERS:
        return []
    pieces = [p for p in re.split(r"[,;]", cleaned) if p.strip()]
    if len(pieces) == 1:
        # Without commas, each space-separated time is one reminder: `1d 2h 15m`.
        pieces = pieces[0].split()
    minutes: list[int] = []
    for piece in pieces:
        read = read_duration(piece)
        if isinstance(read, Unreadable):
            return Unreadable(
                f"I read '{piece.strip()}' as no reminder time I know: "
                "give times before the start like `1d, 2h, 15m`, or `none`"
            )
        minutes.append(read)
    if not minutes:
        return Unreadable("give reminder times like `1d, 2h, 15m`, or `none`")
    return minutes


def describe_minutes(minutes: int) -> str:
    """`90` -> `1h 30m`, `1440` -> `1d`."""
    if minutes <= 0:
        return f"{minutes}m"
    parts = []
    for unit in ("w", "d", "h", "m"):
        amount, minutes = divmod(minutes, MINUTES_PER_UNIT[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts)
