"""Times, durations and reminders read as people type them, around clock changes too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game_scheduler.domain.when import (
    LocalKind,
    Unreadable,
    WhenReading,
    describe_minutes,
    matching_zones,
    place_local,
    read_duration,
    read_reminders,
    read_when,
)

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
# A Friday, noon UTC, well before the 2026/2027 clock changes used below.
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _transitions(zone: str) -> list[datetime]:
    """The instants (UTC) in 2026-2027 at which the zone's offset changes, to the minute."""
    tz = ZoneInfo(zone)
    found = []
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at < datetime(2028, 1, 1, tzinfo=UTC):
        step = at + timedelta(hours=1)
        if at.astimezone(tz).utcoffset() != step.astimezone(tz).utcoffset():
            moment = at
            while moment.astimezone(tz).utcoffset() == at.astimezone(tz).utcoffset():
                moment += timedelta(minutes=1)
            found.append(moment)
        at = step
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}


@st.composite
def wall_times_near_changes(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a wall-clock time within three hours of one of its clock changes."""
    zone = draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone)
    changes = TRANSITIONS[zone] or [datetime(2026, 6, 1, tzinfo=UTC)]
    change = draw(st.sampled_from(changes))
    wall = change.astimezone(tz).replace(tzinfo=None)
    minutes = draw(st.integers(min_value=-180, max_value=180))
    return zone, wall + timedelta(minutes=minutes)


def _instants_showing(wall: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every instant whose wall clock in tz reads `wall` (by trying the offsets near it)."""
    offsets = {
        (wall.replace(tzinfo=UTC) + timedelta(hours=h)).astimezone(tz).utcoffset()
        for h in range(-30, 31)
    }
    found = []
    for offset in offsets:
        assert offset is not None
        instant = wall.replace(tzinfo=UTC) - offset
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            found.append(instant)
    return sorted(found)


def test_the_zones_under_test_change_their_clocks_except_kolkata() -> None:
    assert len(TRANSITIONS["Europe/Berlin"]) == 4
    assert len(TRANSITIONS["America/New_York"]) == 4
    assert len(TRANSITIONS["Australia/Sydney"]) == 4
    assert TRANSITIONS["Asia/Kolkata"] == []


@settings(max_examples=400, deadline=None)
@given(wall_times_near_changes())
def test_placing_a_wall_time_finds_the_instants_that_show_it(case: tuple[str, datetime]) -> None:
    zone, wall = case
    tz = ZoneInfo(zone)
    placed = place_local(wall, tz)
    instants = _instants_showing(wall, tz)
    if placed.kind is LocalKind.NORMAL:
        assert instants == [placed.instant]
    elif placed.kind is LocalKind.AMBIGUOUS:
        assert len(instants) == 2
        assert placed.instant == instants[0]  # the first of the two
    else:
        assert instants == []
        # The offered time exists, lies after the asked one by exactly the gap, and is real.
        after = placed.local.utcoffset()
        before = (placed.instant - timedelta(hours=4)).astimezone(tz).utcoffset()
        assert after is not None
        assert before is not None
        gap = after - before
        assert placed.local.replace(tzinfo=None) - wall == gap
        assert _instants_showing(placed.local.replace(tzinfo=None), tz) == [placed.instant]


@settings(max_examples=60, deadline=None)
@given(wall_times_near_changes())
def test_read_when_says_what_it_did_with_a_time_near_a_clock_change(
    case: tuple[str, datetime],
) -> None:
    zone, wall = case
    tz = ZoneInfo(zone)
    result = read_when(f"{wall:%Y-%m-%d %H:%M}", now=NOW, zone=zone)
    placed = place_local(wall, tz)
    if placed.kind is LocalKind.MISSING:
        assert isinstance(result, Unreadable)
        assert f"{wall:%H:%M} does not exist" in result.reason
        assert f"Did you mean {placed.local:%H:%M}?" in result.reason
        assert result.suggestion == placed.instant
        return
    assert isinstance(result, WhenReading)
    assert result.instant == placed.instant
    assert result.local.replace(tzinfo=None) == wall
    if placed.kind is LocalKind.AMBIGUOUS:
        assert result.note is not None
        assert "happens twice" in result.note
        assert "I took the first" in result.note
    else:
        assert result.note is None


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    change_index=st.integers(min_value=0, max_value=3),
    hours=st.integers(min_value=1, max_value=12),
    before=st.integers(min_value=0, max_value=12 * 60),
)
def test_in_n_hours_is_elapsed_time_across_a_clock_change(
    zone: str, change_index: int, hours: int, before: int
) -> None:
    changes = TRANSITIONS[zone] or [datetime(2026, 6, 1, tzinfo=UTC)]
    now = changes[change_index % len(changes)] - timedelta(minutes=before)
    result = read_when(f"in {hours} hours", now=now, zone=zone)
    assert isinstance(result, WhenReading)
    assert result.instant - now == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("text", "zone", "local"),
    [
        ("2027-01-15 20:00", "Europe/Berlin", datetime(2027, 1, 15, 20, 0)),
        ("15.01. 20:00", "Europe/Berlin", datetime(2026, 1, 15, 20, 0)),
        ("Jan 15 8pm", "America/New_York", datetime(2026, 1, 15, 20, 0)),
        ("tomorrow 19:30", "Asia/Kolkata", datetime(2026, 1, 3, 19, 30)),
        # NOW is Friday 2 January, 13:00 in Berlin: tonight is still ahead.
        ("friday 8pm", "Europe/Berlin", datetime(2026, 1, 2, 20, 0)),
        ("saturday 8pm", "Europe/Berlin", datetime(2026, 1, 3, 20, 0)),
        ("next friday 20:00", "Europe/Berlin", datetime(2026, 1, 9, 20, 0)),
        ("in 2 hours", "Europe/Berlin", datetime(2026, 1, 2, 15, 0)),
        ("20:00 UTC", "Europe/Berlin", datetime(2026, 1, 2, 21, 0)),
    ],
)
def test_the_ways_people_write_times(text: str, zone: str, local: datetime) -> None:
    result = read_when(text, now=NOW, zone=zone)
    assert isinstance(result, WhenReading), result
    assert result.local.replace(tzinfo=None) == local
    assert result.instant == local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_a_weekday_already_past_today_means_next_week() -> None:
    evening = datetime(2026, 1, 2, 21, 0, tzinfo=UTC)  # Friday 22:00 in Berlin
    result = read_when("friday 8pm", now=evening, zone="Europe/Berlin")
    assert isinstance(result, WhenReading)
    assert result.local.replace(tzinfo=None) == datetime(2026, 1, 9, 20, 0)


def test_a_misspelt_time_says_what_was_understood_and_offers_a_fix() -> None:
    result = read_when("fridya 8pm", now=NOW, zone="Europe/Berlin")
    assert isinstance(result, Unreadable)
    assert "'8pm' I understood" in result.reason
    assert "'fridya' I did not" in result.reason
    assert "`friday 8pm`" in result.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("raid", ["no time I know", "`friday 20:00`"]),
        ("", ["a time is needed"]),
        ("2020-01-01 20:00", ["in the past", "1 January 2020"]),
        ("friday", ["no time of day", "`friday 20:00`"]),
        ("in 0 minutes", ["is now"]),
    ],
)
def test_unusable_times_say_why(text: str, words: list[str]) -> None:
    result = read_when(text, now=NOW, zone="Europe/Berlin")
    assert isinstance(result, Unreadable)
    for word in words:
        assert word in result.reason


def test_an_unknown_zone_is_named() -> None:
    result = read_when("friday 8pm", now=NOW, zone="Mars/Olympus")
    assert isinstance(result, Unreadable)
    assert "Mars/Olympus" in result.reason


def test_spring_forward_in_berlin_offers_half_past_three() -> None:
    result = read_when("2026-03-29 02:30", now=NOW, zone="Europe/Berlin")
    assert isinstance(result, Unreadable)
    assert result.reason.startswith("02:30 does not exist on Sunday 29 March 2026")
    assert "Did you mean 03:30?" in result.reason
    assert result.suggestion == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_fall_back_in_new_york_takes_the_first_half_past_one() -> None:
    result = read_when("2026-11-01 01:30", now=NOW, zone="America/New_York")
    assert isinstance(result, WhenReading)
    assert result.instant == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT, UTC-4
    assert result.note is not None
    assert "(UTC-04:00)" in result.note
    assert "(UTC-05:00)" in result.note


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90m", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("1.5h", 90),
        ("2 hours", 120),
        ("1:30", 90),
        ("90", 90),
        ("1d", 1440),
        ("30 days", 43200),
        ("0", 0),
    ],
)
def test_durations(text: str, minutes: int) -> None:
    assert read_duration(text) == minutes


@pytest.mark.parametrize("text", ["abc", "1h30h", "h", "90 parsecs", "1.01m", ""])
def test_unreadable_durations(text: str) -> None:
    assert isinstance(read_duration(text), Unreadable)


@given(st.integers(min_value=1, max_value=60 * 24 * 400))
def test_a_described_duration_reads_back(minutes: int) -> None:
    assert read_duration(describe_minutes(minutes)) == minutes


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1d, 2h, 15m", [1440, 120, 15]),
        ("1d 2h 15m", [1440, 120, 15]),
        ("60,15", [60, 15]),
        ("1h30", [90]),
        ("none", []),
    ],
)
def test_reminders(text: str, minutes: list[int]) -> None:
    assert read_reminders(text) == minutes


def test_an_unreadable_reminder_is_named() -> None:
    result = read_reminders("1d, soon")
    assert isinstance(result, Unreadable)
    assert "'soon'" in result.reason


def test_zone_search() -> None:
    assert matching_zones("berl") == ["Europe/Berlin"]
    assert matching_zones("new york")[0] == "America/New_York"
    assert "Asia/Kolkata" in matching_zones("kolk")
    assert len(matching_zones("")) == 25
