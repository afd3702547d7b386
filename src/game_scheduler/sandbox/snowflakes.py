"""Discord snowflake ids: timestamp-based, unique within one sandbox process."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

DISCORD_EPOCH_MS = 1_420_070_400_000
# Discord packs worker (5 bits) and process (5 bits) ids above the 12-bit increment;
# the sandbox is one worker of one process, so both are fixed.
_WORKER_ID = 1
_PROCESS_ID = 0


class SnowflakeGenerator:
    """Hands out increasing snowflakes the way Discord builds them."""

    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._increment = itertools.count()
        self._last = 0

    def next(self) -> int:
        """Return a new snowflake for the current time."""
        ms = self._clock_ms() - DISCORD_EPOCH_MS
        value = (ms << 22) | (_WORKER_ID << 17) | (_PROCESS_ID << 12)
        value |= next(self._increment) & 0xFFF
        # Two ids within one millisecond after the 12-bit counter wrapped must still grow.
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


def snowflake_time_ms(snowflake: int) -> int:
    """Return the Unix time in milliseconds a snowflake was made at."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS
