"""Repeating games: an RFC 5545 RRULE read in a time zone from a wall-clock start.

Occurrences are expanded in local time (python-dateutil's rrule over the naive
`local_start`), then each is placed in the series' zone and converted to UTC, so 20:00
Europe/Berlin is 19:00 UTC in winter and 18:00 UTC in summer. Two nights a year need a rule:

- a local time that does not exist that night (the clocks jump over it) moves forward to
  the first valid minute after the jump (02:30 on a 02:00 -> 03:00 night becomes 03:00);
- a local time that happens twice (the clocks fall back over it) takes the first (fold=0).

Pure: no I/O, and `now` is always an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

from game_scheduler.domain.validation import MAX_SCHEDULE_AHEAD, InvalidField

ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
REFUSED_FREQUENCIES = ("HOURLY", "MINUTELY", "SECONDLY")
MAX_INTERVAL = 100
MAX_COUNT = 100_000
# A series' first occurrence may lie this far back (an existing weekly game moved here).
MAX_START_IN_PAST = timedelta(days=366)
# Nothing beyond this is ever expanded: a game cannot be scheduled further ahead anyway.
EXPANSION_AHEAD = MAX_SCHEDULE_AHEAD
# The longest jump of the clocks on record is a whole day (Samoa, 2011).
_MAX_GAP = timedelta(days=2)

# Parts each frequency accepts (besides FREQ, INTERVAL, COUNT, UNTIL, WKST). The time of
# day always comes from local_start; the parts left out either make no sense for game
# nights or let a rule that never matches run dateutil on to the year 9999.
_COMMON_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"})
_PARTS_BY_FREQUENCY = {
    "DAILY": _COMMON_PARTS | {"BYDAY"},
    "WEEKLY": _COMMON_PARTS | {"BYDAY"},
    "MONTHLY": _COMMON_PARTS | {"BYDAY", "BYMONTHDAY", "BYMONTH"},
    "YEARLY": _COMMON_PARTS | {"BYDAY", "BYMONTHDAY", "BYMONTH"},
}
_KNOWN_PARTS = frozenset(
    {"BYSETPOS", "BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYMINUTE", "BYSECOND", "BYEASTER"}
).union(*_PARTS_BY_FREQUENCY.values())
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# [0-9], not \d: \d also matches other scripts' digits, which int() then accepts.
_BYDAY_ITEM = re.compile(r"^([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL_VALUE = re.compile(r"^[0-9]{8}(T[0-9]{6}Z?)?$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: leap years


@dataclass(frozen=True)
class Recurrence:
    """A checked rule: `rule` (normalised RRULE text), IANA `timezone`, naive `local_start`."""

    rule: str
    timezone: str
    local_start: datetime

    @property
    def zone(self) -> ZoneInfo:
        """The series' time zone."""
        return ZoneInfo(self.timezone)


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """An IANA time zone name this system knows, such as `Europe/Berlin`."""
    if name not in _zone_names():
        raise InvalidField(
            "timezone", f"{name!r} is not an IANA time zone name; use one like 'Europe/Berlin'"
        )
    return name


def check_local_start(local_start: datetime) -> datetime:
    """A wall-clock start without an offset, on a whole minute."""
    if local_start.tzinfo is not None:
        raise InvalidField(
            "local_start",
            "must be a wall-clock time without an offset, e.g. 2027-03-19T20:00; "
            "the series' timezone says where it is",
        )
    if local_start.second or local_start.microsecond:
        raise InvalidField("local_start", "must be on a whole minute, e.g. 2027-03-19T20:00")
    return local_start


def _parts_of(text: str) -> dict[str, str]:
    rule = text.strip().upper()
    if rule.startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    if not rule:
        raise InvalidField("rrule", "is empty; send a rule such as FREQ=WEEKLY;BYDAY=FR")
    if any(c in rule for c in "\r\n:"):
        raise InvalidField(
            "rrule", "must be one RRULE line such as FREQ=WEEKLY;BYDAY=FR (no DTSTART, no EXDATE)"
        )
    parts: dict[str, str] = {}
    for item in rule.split(";"):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InvalidField("rrule", f"{item!r} is not NAME=VALUE")
        if name not in _KNOWN_PARTS:
            raise InvalidField("rrule", f"{name} is not an RRULE part")
        if name in parts:
            raise InvalidField("rrule", f"{name} appears twice")
        parts[name] = value
    return parts


def _check_int(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,6}", value) or not low <= int(value) <= high:
        raise InvalidField("rrule", f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _check_frequency(parts: dict[str, str]) -> str:
    frequency = parts.get("FREQ")
    if frequency is None:
        raise InvalidField("rrule", "needs FREQ, e.g. FREQ=WEEKLY")
    if frequency in REFUSED_FREQUENCIES:
        raise InvalidField(
            "rrule", f"FREQ={frequency} is refused: games repeat at most daily (DAILY, WEEKLY, ...)"
        )
    if frequency not in ALLOWED_FREQUENCIES:
        raise InvalidField("rrule", f"FREQ must be one of {', '.join(ALLOWED_FREQUENCIES)}")
    for name in parts:
        if name in {"BYHOUR", "BYMINUTE", "BYSECOND"}:
            raise InvalidField("rrule", f"{name} is not supported: local_start gives the time")
        if name not in _PARTS_BY_FREQUENCY[frequency]:
            raise InvalidField("rrule", f"{name} is not supported with FREQ={frequency}")
    return frequency


def _check_byday(frequency: str, value: str) -> None:
    for item in value.split(","):
        match = _BYDAY_ITEM.match(item)
        if match is None:
            raise InvalidField("rrule", f"BYDAY {item!r} is not a weekday such as FR or 1SA")
        if match.group(1) is None:
            continue
        if frequency in ("DAILY", "WEEKLY"):
            raise InvalidField(
                "rrule", f"BYDAY={item} counts weekdays, which FREQ={frequency} does not"
            )
        limit = 5 if frequency == "MONTHLY" else 53
        if not 1 <= abs(int(match.group(1))) <= limit:
            raise InvalidField(
                "rrule", f"BYDAY {item}: the count must be 1 to {limit} or -1 to -{limit}"
            )


def _check_month_days(parts: dict[str, str]) -> None:
    months = [_check_int("BYMONTH", m, 1, 12) for m in parts.get("BYMONTH", "").split(",") if m]
    days = [
        _check_int("BYMONTHDAY", d, -31, 31) for d in parts.get("BYMONTHDAY", "").split(",") if d
    ]
    if 0 in days:
        raise InvalidField("rrule", "BYMONTHDAY must be 1 to 31 or -1 to -31")
    if days and months and not any(abs(d) <= _DAYS_IN_MONTH[m - 1] for d in days for m in months):
        raise InvalidField("rrule", "no month in BYMONTH has the days in BYMONTHDAY")


def normalise_rule(text: str) -> str:
    """The rule in canonical form (upper case, no `RRULE:`), refusing what games cannot use."""
    parts = _parts_of(text)
    frequency = _check_frequency(parts)
    if "INTERVAL" in parts:
        _check_int("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL)
    if "COUNT" in parts:
        _check_int("COUNT", parts["COUNT"], 1, MAX_COUNT)
        if "UNTIL" in parts:
            raise InvalidField("rrule", "COUNT and UNTIL cannot both be given")
    if "UNTIL" in parts and not _UNTIL_VALUE.match(parts["UNTIL"]):
        raise InvalidField("rrule", "UNTIL must look like 20271231 or 20271231T230000Z")
    if "WKST" in parts and parts["WKST"] not in _WEEKDAYS:
        raise InvalidField("rrule", "WKST must be a weekday such as MO")
    if "BYDAY" in parts:
        _check_byday(frequency, parts["BYDAY"])
    _check_month_days(parts)
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _local_until(until: str, zone: ZoneInfo) -> str:
    """UNTIL as a local wall time: UTC (`...Z`) converted, a date meaning its whole day."""
    if until.endswith("Z"):
        moment = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        try:
            return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")
        except OverflowError:  # year 1 or 9999: a few hours either way change nothing
            return until[:-1]
    if "T" not in until:
        return f"{until}T235959"
    return until


def _local_rule(recurrence: Recurrence) -> rrule:
    parts = dict(item.split("=", 1) for item in recurrence.rule.split(";"))
    try:
        if "UNTIL" in parts:
            parts["UNTIL"] = _local_until(parts["UNTIL"], recurrence.zone)
        text = ";".join(f"{name}={value}" for name, value in parts.items())
        rule = rrulestr(text, dtstart=recurrence.local_start)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidField("rrule", f"is not a valid RFC 5545 RRULE: {exc}") from None
    assert isinstance(rule, rrule)  # one RRULE line, never a set
    return rule


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    there = local.replace(tzinfo=zone, fold=0)
    return there.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone`: a skipped time moves to the first
    valid minute after the jump, a repeated one takes its first instant (fold=0)."""
    probe = local
    while not _exists(probe, zone):
        probe = probe.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if probe - local > _MAX_GAP:
            raise ValueError(f"{local} does not exist in {zone.key} and no minute after it does")
    return probe.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _instants(recurrence: Recurrence, until: datetime) -> Iterator[datetime]:
    """Every occurrence in UTC, in order, up to `until` (UTC)."""
    zone = recurrence.zone
    stop_local = until.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    previous: datetime | None = None
    for local in _local_rule(recurrence):
        if local > stop_local:
            return
        instant = to_utc(local, zone)
        if instant > until:
            return
        # Two local times can land on one instant (both inside the same jump): one game.
        if instant != previous:
            previous = instant
            yield instant


def iter_occurrences(recurrence: Recurrence, after: datetime) -> Iterator[datetime]:
    """The occurrences strictly after `after`, in UTC and in order, within five years of it."""
    return (t for t in _instants(recurrence, after + EXPANSION_AHEAD) if t > after)


def occurrences_between(recurrence: Recurrence, after: datetime, until: datetime) -> list[datetime]:
    """The occurrences strictly after `after` and at or before `until`, in UTC."""
    return [t for t in _instants(recurrence, until) if t > after]


def next_occurrences(recurrence: Recurrence, after: datetime, count: int) -> list[datetime]:
    """Up to `count` occurrences strictly after `after`, in UTC, within five years of it."""
    found: list[datetime] = []
    for instant in iter_occurrences(recurrence, after):
        found.append(instant)
        if len(found) >= count:
            break
    return found


def next_occurrence(recurrence: Recurrence, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after`, or None when the rule has ended."""
    upcoming = next_occurrences(recurrence, after, 1)
    return upcoming[0] if upcoming else None


def parse_recurrence(rule: str, timezone: str, local_start: datetime) -> Recurrence:
    """Check a rule, zone and wall-clock start on their own (no clock involved)."""
    recurrence = Recurrence(
        rule=normalise_rule(rule),
        timezone=check_timezone(timezone),
        local_start=check_local_start(local_start),
    )
    _local_rule(recurrence)  # what dateutil itself refuses, refused here
    return recurrence


def check_recurrence(
    rule: str, timezone: str, local_start: datetime, *, now: datetime, new_start: bool = True
) -> Recurrence:
    """A recurrence a new or edited series may have: valid, and with an occurrence ahead.

    `new_start=False` (an edit that keeps the series' start) lets an old start stand.
    """
    recurrence = parse_recurrence(rule, timezone, local_start)
    zone = recurrence.zone
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if new_start and recurrence.local_start < local_now - MAX_START_IN_PAST:
        raise InvalidField("local_start", "must be at most a year in the past")
    if recurrence.local_start > local_now + EXPANSION_AHEAD:
        raise InvalidField("local_start", "must be at most 5 years ahead")
    if next_occurrence(recurrence, now) is None:
        if next(_instants(recurrence, now + EXPANSION_AHEAD), None) is None:
            raise InvalidField("rrule", "matches no date within 5 years of local_start")
        raise InvalidField("rrule", "has no occurrence after now: every one is in the past")
    return recurrence


REPEAT_CHOICES = ("weekly", "biweekly", "monthly")


def rule_for_repeat(choice: str, local_start: datetime) -> str:
    """The RRULE a front door's "Repeat" choice stands for, from the first game's date.

    weekly: that weekday every week; biweekly: every other week; monthly: the same
    numbered weekday each month ("the 3rd Friday"; a 5th one becomes "the last").
    """
    weekday = _WEEKDAYS[local_start.weekday()]
    if choice == "weekly":
        return f"FREQ=WEEKLY;BYDAY={weekday}"
    if choice == "biweekly":
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}"
    if choice == "monthly":
        nth = (local_start.day - 1) // 7 + 1
        return f"FREQ=MONTHLY;BYDAY={-1 if nth == 5 else nth}{weekday}"
    raise InvalidField("repeat", f"must be one of {', '.join(REPEAT_CHOICES)}")
