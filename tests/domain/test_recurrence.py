"""A series keeps the local wall time people agreed on, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game_scheduler.domain.recurrence import (
    check_recurrence,
    next_occurrences,
    occurrences_between,
    parse_recurrence,
    rule_for_repeat,
    to_utc,
)
from game_scheduler.domain.validation import InvalidField

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_weekly_friday_20_00_berlin_keeps_its_wall_time_across_the_march_change() -> None:
    series = check_recurrence(
        "FREQ=WEEKLY;BYDAY=FR", "Europe/Berlin", datetime(2027, 3, 19, 20, 0), now=NOW
    )
    assert next_occurrences(series, NOW, 3) == [
        datetime(2027, 3, 19, 19, 0, tzinfo=UTC),
        datetime(2027, 3, 26, 19, 0, tzinfo=UTC),
        datetime(2027, 4, 2, 18, 0, tzinfo=UTC),
    ]


def test_the_southern_hemisphere_changes_the_other_way() -> None:
    # Sydney leaves daylight saving on the first Sunday of April 2027.
    series = check_recurrence(
        "FREQ=WEEKLY;BYDAY=SA", "Australia/Sydney", datetime(2027, 3, 27, 19, 30), now=NOW
    )
    assert next_occurrences(series, NOW, 3) == [
        datetime(2027, 3, 27, 8, 30, tzinfo=UTC),  # +11:00
        datetime(2027, 4, 3, 8, 30, tzinfo=UTC),  # +11:00 until the next morning
        datetime(2027, 4, 10, 9, 30, tzinfo=UTC),  # +10:00
    ]


def test_a_time_the_clocks_skip_moves_to_the_first_valid_minute() -> None:
    # 2027-03-28 02:00 -> 03:00 in Berlin: 02:30 does not exist that night.
    series = check_recurrence("FREQ=DAILY", "Europe/Berlin", datetime(2027, 3, 27, 2, 30), now=NOW)
    local = [t.astimezone(BERLIN).replace(tzinfo=None) for t in next_occurrences(series, NOW, 3)]
    assert local == [
        datetime(2027, 3, 27, 2, 30),
        datetime(2027, 3, 28, 3, 0),
        datetime(2027, 3, 29, 2, 30),
    ]


def test_a_time_that_happens_twice_takes_the_first() -> None:
    # 2027-10-31 03:00 -> 02:00 in Berlin: 02:30 happens at +02:00 and again at +01:00.
    assert to_utc(datetime(2027, 10, 31, 2, 30), BERLIN) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )


def test_monthly_rules_from_the_issue() -> None:
    first_saturday = check_recurrence(
        "FREQ=MONTHLY;BYDAY=1SA", "UTC", datetime(2027, 4, 3, 18, 0), now=NOW
    )
    assert [t.day for t in next_occurrences(first_saturday, NOW, 3)] == [3, 1, 5]
    fifteenth = check_recurrence(
        "RRULE:freq=monthly;bymonthday=15;count=2", "UTC", datetime(2027, 3, 15, 18, 0), now=NOW
    )
    assert fifteenth.rule == "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=2"
    assert [t.month for t in next_occurrences(fifteenth, NOW, 5)] == [3, 4]


def test_every_other_tuesday_and_thursday() -> None:
    series = check_recurrence(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "UTC", datetime(2027, 3, 2, 19, 0), now=NOW
    )
    assert [t.day for t in next_occurrences(series, NOW, 4)] == [2, 4, 16, 18]


def test_until_in_utc_is_read_as_an_instant() -> None:
    series = check_recurrence(
        "FREQ=WEEKLY;BYDAY=FR;UNTIL=20270326T190000Z",
        "Europe/Berlin",
        datetime(2027, 3, 19, 20, 0),
        now=NOW,
    )
    assert len(next_occurrences(series, NOW, 10)) == 2


def test_until_as_a_date_includes_that_whole_day() -> None:
    series = check_recurrence(
        "FREQ=WEEKLY;BYDAY=FR;UNTIL=20270326",
        "Europe/Berlin",
        datetime(2027, 3, 19, 20, 0),
        now=NOW,
    )
    assert len(next_occurrences(series, NOW, 10)) == 2


def test_ten_thousand_occurrences_are_allowed() -> None:
    series = check_recurrence("FREQ=DAILY;COUNT=10000", "UTC", datetime(2027, 3, 2, 19, 0), now=NOW)
    window = occurrences_between(series, NOW, NOW + timedelta(days=14))
    assert len(window) == 13  # 2 March to 14 March


def test_occurrences_already_past_are_not_offered() -> None:
    series = check_recurrence("FREQ=WEEKLY", "UTC", datetime(2027, 2, 1, 19, 0), now=NOW)
    assert next_occurrences(series, NOW, 1) == [datetime(2027, 3, 1, 19, 0, tzinfo=UTC)]


def test_a_rule_whose_occurrences_are_all_past_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        check_recurrence("FREQ=WEEKLY;UNTIL=20270201", "UTC", datetime(2027, 1, 4, 19, 0), now=NOW)
    assert caught.value.field == "rrule"
    assert "every one is in the past" in caught.value.reason


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=SECONDLY", "FREQ=SECONDLY is refused"),
        ("FREQ=MINUTELY", "FREQ=MINUTELY is refused"),
        ("FREQ=HOURLY;INTERVAL=24", "FREQ=HOURLY is refused"),
        ("", "is empty"),
        ("BYDAY=FR", "needs FREQ"),
        ("FREQ=FORTNIGHTLY", "FREQ must be one of"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("FREQ=WEEKLY;BYDAY", "is not NAME=VALUE"),
        ("FREQ=WEEKLY;COLOUR=RED", "not an RRULE part"),
        ("FREQ=WEEKLY;BYDAY=FR;BYDAY=MO", "appears twice"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20280101", "COUNT and UNTIL"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "UNTIL must look like"),
        ("FREQ=DAILY;BYHOUR=20", "local_start gives the time"),
        ("FREQ=WEEKLY;BYDAY=1FR", "counts weekdays"),
        ("FREQ=MONTHLY;BYDAY=6FR", "count must be 1 to 5"),
        ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "no month in BYMONTH"),
        ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR", "BYSETPOS is not supported"),
        ("DTSTART:20270319T200000\nRRULE:FREQ=WEEKLY", "one RRULE line"),
        ("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "matches no date"),
    ],
)
def test_rules_a_series_cannot_have_are_refused_with_the_reason(rule: str, message: str) -> None:
    with pytest.raises(InvalidField) as caught:
        check_recurrence(rule, "UTC", datetime(2027, 3, 2, 19, 0), now=NOW)
    assert caught.value.field == "rrule"
    assert message in caught.value.reason


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/berlin", "", "../etc/passwd", "Europe"])
def test_unknown_time_zones_are_refused(zone: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse_recurrence("FREQ=WEEKLY", zone, datetime(2027, 3, 2, 19, 0))
    assert caught.value.field == "timezone"


def test_a_local_start_with_an_offset_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_recurrence("FREQ=WEEKLY", "UTC", datetime(2027, 3, 2, 19, 0, tzinfo=UTC))
    assert caught.value.field == "local_start"
    assert "without an offset" in caught.value.reason


@pytest.mark.parametrize(
    ("local_start", "message"),
    [
        (datetime(2027, 3, 2, 19, 0, 30), "whole minute"),
        (datetime(2025, 1, 1, 19, 0), "at most a year in the past"),
        (datetime(2033, 1, 1, 19, 0), "at most 5 years ahead"),
    ],
)
def test_local_starts_out_of_range_are_refused(local_start: datetime, message: str) -> None:
    with pytest.raises(InvalidField) as caught:
        check_recurrence("FREQ=WEEKLY", "UTC", local_start, now=NOW)
    assert caught.value.field == "local_start"
    assert message in caught.value.reason


# Northern and southern hemisphere, half- and quarter-hour offsets, a half-hour DST shift
# (Lord Howe), zones without DST, and one whose DST rules changed recently.
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Africa/Casablanca",
    "UTC",
]
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def weekly_series(draw: st.DrawFn) -> tuple[str, str, datetime]:
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
    interval = draw(st.integers(1, 3))
    rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(days)}"
    start = draw(
        st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2029, 12, 31))
    ).replace(second=0, microsecond=0)
    # Lean on the hours the clocks change at, where the interesting cases are.
    hour = draw(st.one_of(st.integers(0, 23), st.sampled_from([0, 1, 2, 3])))
    return rule, draw(st.sampled_from(ZONES)), start.replace(hour=hour)


@settings(max_examples=150, deadline=None)
@given(weekly_series())
def test_every_weekly_occurrence_keeps_the_local_start_time(
    series_args: tuple[str, str, datetime],
) -> None:
    rule, zone_name, local_start = series_args
    zone = ZoneInfo(zone_name)
    now = to_utc(local_start, zone) - timedelta(minutes=1)
    series = check_recurrence(rule, zone_name, local_start, now=now)
    instants = next_occurrences(series, now, 60)
    assert instants == sorted(set(instants))
    wanted = {WEEKDAYS.index(d) for d in rule.split("BYDAY=")[1].split(",")}
    for instant in instants:
        local = instant.astimezone(zone)
        wall = local.replace(tzinfo=None)
        agreed = datetime.combine(wall.date(), local_start.time())
        if agreed.date() != wall.date() or wall != agreed:
            # Documented shift: the agreed time did not exist that night, so the game is at
            # the first minute after the jump, which is the first valid minute after it.
            skipped = agreed.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
            assert skipped.replace(tzinfo=None) != agreed, f"{agreed} exists, got {wall}"
            assert agreed < wall <= agreed + timedelta(days=1)
            before = wall - timedelta(minutes=1)
            back = before.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
            assert back.replace(tzinfo=None) != before, "not the first valid minute"
        else:
            assert wall.weekday() in wanted
            # An hour that happens twice: the earlier of the two instants.
            assert local.fold == 0
            assert instant == agreed.replace(tzinfo=zone, fold=0).astimezone(UTC)


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        ("weekly", "FREQ=WEEKLY;BYDAY=FR"),
        ("biweekly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        ("monthly", "FREQ=MONTHLY;BYDAY=3FR"),
    ],
)
def test_a_repeat_choice_writes_the_rule_from_the_first_date(choice: str, rule: str) -> None:
    assert rule_for_repeat(choice, datetime(2027, 3, 19, 20, 0)) == rule


def test_a_fifth_weekday_repeats_as_the_last_of_the_month() -> None:
    assert rule_for_repeat("monthly", datetime(2027, 4, 30, 20, 0)) == "FREQ=MONTHLY;BYDAY=-1FR"


def test_an_unknown_repeat_choice_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        rule_for_repeat("hourly", datetime(2027, 3, 19, 20, 0))
    assert caught.value.field == "repeat"
