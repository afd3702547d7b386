"""Per-channel pacing of message writes: at most 5 per 5 seconds, as Discord allows.

discord.py already honours a 429's `retry_after` and the rate-limit headers, but only after
the bucket is known and exhausted; pacing ourselves keeps a burst of refreshes in one busy
channel from ever meeting a 429 (and from stalling every other call behind the bucket).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from game_scheduler.bot.metrics import BotMetrics

EDITS_PER_WINDOW = 5
WINDOW_SECONDS = 5.0


class ChannelPacer:
    """A sliding window of recent writes per channel; `acquire` waits for a free slot."""

    def __init__(
        self,
        limit: int = EDITS_PER_WINDOW,
        window: float = WINDOW_SECONDS,  # seconds
        monotonic: Callable[[], float] = time.monotonic,
        metrics: BotMetrics | None = None,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self._limit = limit
        self._metrics = metrics or BotMetrics.unregistered()
        self._window = window
        self._monotonic = monotonic
        self._recent: dict[int, deque[float]] = {}

    def _prune(self, channel_id: int, now: float) -> deque[float]:
        recent = self._recent.setdefault(channel_id, deque())
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        return recent

    def delay(self, channel_id: int) -> float:
        """Seconds until a write to `channel_id` would be allowed (0 when it is now)."""
        now = self._monotonic()
        recent = self._prune(channel_id, now)
        if len(recent) < self._limit:
            return 0.0
        return max(recent[0] + self._window - now, 0.0)

    async def acquire(self, channel_id: int) -> None:
        """Wait until a write to `channel_id` fits in the window, then count it."""
        waited = False
        while True:
            wait = self.delay(channel_id)
            if wait <= 0:
                # No await between the check and the append: concurrent callers cannot overbook.
                self._recent[channel_id].append(self._monotonic())
                if waited:
                    self._metrics.edits_paced.inc()
                return
            waited = True
            await asyncio.sleep(wait)

    def forget_idle(self) -> None:
        """Drop channels with no write in the window, so the map does not grow forever."""
        now = self._monotonic()
        for channel_id in list(self._recent):
            if not self._prune(channel_id, now):
                del self._recent[channel_id]
