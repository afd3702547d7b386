"""A series' rule in words, as people read it: "every Friday at 20:00 (Europe/Berlin)".

The rules the front doors write (`rule_for_repeat`) and the common hand-written ones read
as a sentence; anything else is shown as its RRULE text. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime

_DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_WEEKDAYS = tuple(_DAY_NAMES)
_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_EVERY = {1: "every", 2: "every other"}


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _days(byday: str) -> str | None:
    names = [_DAY_NAMES.get(d) for d in byday.split(",")]
    if any(n is None for n in names):
        return None
    shown = [n for n in names if n is not None]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _every(interval: int, unit: str) -> str:
    if interval in _EVERY:
        return f"{_EVERY[interval]} {unit}"
    return f"every {interval} {unit}s"


def _sentence(parts: dict[str, str], local_start: datetime) -> str | None:
    frequency = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1"))
    byday = parts.get("BYDAY")
    if set(parts) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"}:
        return None
    if frequency == "DAILY" and byday is None:
        return _every(interval, "day")
    if frequency == "WEEKLY" and "BYMONTHDAY" not in parts:
        days = _days(byday or _WEEKDAYS[local_start.weekday()])
        if days is None:
            return None
        return (
            f"{_EVERY[interval]} {days}"
            if interval in _EVERY
            else f"every {interval} weeks on {days}"
        )
    if frequency == "MONTHLY" and interval == 1 and byday and "BYMONTHDAY" not in parts:
        count, day = byday[:-2], byday[-2:]
        nth = _NTH.get(int(count)) if count.lstrip("+-").isdigit() else None
        if nth is None or day not in _DAY_NAMES or "," in byday:
            return None
        return f"the {nth} {_DAY_NAMES[day]} of every month"
    if frequency == "MONTHLY" and interval == 1 and not byday:
        day_of_month = int(parts.get("BYMONTHDAY", str(local_start.day)).split(",")[0])
        if "," in parts.get("BYMONTHDAY", "") or day_of_month < 1:
            return None
        return f"the {_ordinal(day_of_month)} of every month"
    return None


def describe_rule(rule: str, local_start: datetime, timezone: str) -> str:
    """`every Friday at 20:00 (Europe/Berlin)`, or the rule itself when it has no sentence."""
    parts = dict(item.split("=", 1) for item in rule.split(";") if "=" in item)
    sentence = _sentence(parts, local_start)
    if sentence is None:
        return f"{rule} from {local_start:%Y-%m-%d %H:%M} ({timezone})"
    ending = ""
    if "COUNT" in parts:
        ending = f", {parts['COUNT']} times"
    elif "UNTIL" in parts:
        until = parts["UNTIL"]
        ending = f", until {until[:4]}-{until[4:6]}-{until[6:8]}"
    return f"{sentence} at {local_start:%H:%M} ({timezone}){ending}"
