"""A series' rule read back as a sentence."""

from __future__ import annotations

from datetime import datetime

import pytest

from game_scheduler.domain.recurrence import rule_for_repeat
from game_scheduler.domain.rule_words import describe_rule

FRIDAY = datetime(2027, 3, 19, 20, 0)  # the 3rd Friday of March


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (rule_for_repeat("weekly", FRIDAY), "every Friday at 20:00 (Europe/Berlin)"),
        (rule_for_repeat("biweekly", FRIDAY), "every other Friday at 20:00"),
        (rule_for_repeat("monthly", FRIDAY), "the third Friday of every month at 20:00"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "the last Friday of every month"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "every other Tuesday and Thursday"),
        ("FREQ=WEEKLY", "every Friday"),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=SA", "every 3 weeks on Saturday"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "the 15th of every month"),
        ("FREQ=MONTHLY;BYMONTHDAY=22", "the 22nd of every month"),
        ("FREQ=DAILY;COUNT=10", "every day at 20:00 (Europe/Berlin), 10 times"),
        (
            "FREQ=WEEKLY;BYDAY=FR;UNTIL=20271231",
            "every Friday at 20:00 (Europe/Berlin), until 2027-12-31",
        ),
    ],
)
def test_rules_read_as_sentences(rule: str, words: str) -> None:
    assert words in describe_rule(rule, FRIDAY, "Europe/Berlin")


def test_a_rule_without_a_sentence_is_shown_as_itself() -> None:
    rule = "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"
    assert describe_rule(rule, FRIDAY, "UTC") == f"{rule} from 2027-03-19 20:00 (UTC)"
