"""Bad game fields are refused with the field named and the reason given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from game_scheduler.domain.validation import (
    InvalidField,
    check_max_players,
    check_reminder_minutes,
    check_scheduled_at,
    check_snowflake,
    check_title,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (lambda: check_title(""), "title", "1 to 200"),
        (lambda: check_title("x" * 201), "title", "1 to 200"),
        (lambda: check_scheduled_at(datetime(2027, 1, 1), NOW), "scheduled_at", "timezone"),
        (lambda: check_scheduled_at(NOW - timedelta(seconds=1), NOW), "scheduled_at", "future"),
        (lambda: check_reminder_minutes([15, 15]), "reminder_minutes", "repeat"),
        (lambda: check_reminder_minutes([-5]), "reminder_minutes", "1 to 10080"),
        (lambda: check_reminder_minutes([10_081]), "reminder_minutes", "1 to 10080"),
        (lambda: check_reminder_minutes(list(range(1, 51))), "reminder_minutes", "at most 10"),
        (lambda: check_max_players(0), "max_players", "1 to 100"),
        (lambda: check_snowflake("guild_id", 0), "guild_id", "Discord id"),
        (lambda: check_snowflake("guild_id", 2**63), "guild_id", "Discord id"),
    ],
)
def test_bad_fields_are_named(call: object, field: str, reason: str) -> None:
    with pytest.raises(InvalidField) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
    assert reason in error.value.reason


def test_good_values_pass_and_are_normalised() -> None:
    assert check_title("  Raid night ") == "Raid night"
    assert check_reminder_minutes([15, 60, 1440]) == [1440, 60, 15]
    assert check_max_players(None) is None
