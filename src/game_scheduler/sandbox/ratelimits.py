"""Per-route rate-limit buckets: the headers Discord sends and the 429s it answers."""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Discord limits message edits to 5 per 5 seconds per channel; the sandbox enforces it.
EDIT_LIMIT = 5
EDIT_WINDOW = 5.0  # seconds
# Other routes get a generous bucket, close to Discord's global 50 requests per second.
DEFAULT_LIMIT = 50
DEFAULT_WINDOW = 1.0  # seconds
# Discord's global limit: 50 requests per second per bot, whatever the route.
GLOBAL_PER_SECOND = 50
GLOBAL_WINDOW = 1.0  # seconds

EDIT_ROUTES = frozenset(
    {
        "PATCH /api/v10/channels/{channel_id}/messages/{message_id}",
    }
)


@dataclass
class Bucket:
    """One fixed window of a route and its major parameter, as Discord counts them."""

    bucket_hash: str
    limit: int
    window: float  # seconds
    used: int = 0
    reset_at: float = 0.0  # monotonic seconds

    def _roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window

    def try_acquire(self, now: float) -> float | None:
        """Count one request; return None if allowed, else the seconds to wait."""
        self._roll(now)
        if self.used >= self.limit:
            return max(self.reset_at - now, 0.001)
        self.used += 1
        return None

    def headers(self, now: float, wall_now: float) -> dict[str, str]:
        """Return Discord's X-RateLimit-* headers for this bucket's current window."""
        self._roll(now)
        reset_after = max(self.reset_at - now, 0.0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - self.used, 0)),
            "X-RateLimit-Reset": f"{wall_now + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket_hash,
        }


class GlobalLimit:
    """Discord's global limit, read strictly: at most `per_second` requests in any 1 s.

    A sliding window (not fixed windows, not a token bucket with a burst): a bot that
    stays under it here stays under any of Discord's readings of "50 per second".
    Refused requests do not count, as on Discord. `per_second` 0 turns it off.
    """

    def __init__(
        self, per_second: int = GLOBAL_PER_SECOND, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self.per_second = per_second
        self._recent: deque[float] = deque()
        self.counted = 0  # requests let through since the last reset
        self.rejected = 0  # global 429s answered since the last reset

    def try_acquire(self) -> float | None:
        """Count one request; None if allowed, else the seconds until one would be."""
        if self.per_second <= 0:
            self.counted += 1
            return None
        now = self._monotonic()
        while self._recent and self._recent[0] <= now - GLOBAL_WINDOW:
            self._recent.popleft()
        if len(self._recent) >= self.per_second:
            self.rejected += 1
            return max(self._recent[0] + GLOBAL_WINDOW - now, 0.001)
        self._recent.append(now)
        self.counted += 1
        return None

    def configure(self, per_second: int) -> None:
        """Change the limit (0: off); the window of recent requests is kept."""
        self.per_second = per_second

    def reset(self) -> None:
        """Back to Discord's limit, with no request counted."""
        self.per_second = GLOBAL_PER_SECOND
        self._recent.clear()
        self.counted = 0
        self.rejected = 0

    def snapshot(self) -> dict[str, Any]:
        """The limit and what it did, for /sandbox/state and /sandbox/limits."""
        return {
            "global_per_s": self.per_second,
            "global_429s": self.rejected,
            "requests_counted": self.counted,
        }


class RateLimiter:
    """All buckets of the sandbox, keyed like discord.py keys them (route + major params)."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._buckets: dict[str, Bucket] = {}
        self.global_limit = GlobalLimit(monotonic=monotonic)
        self.route_rejected = 0  # per-route 429s answered since the last reset

    def bucket(self, route: str, major: str) -> Bucket:
        """Return (creating on first use) the bucket for a route template and major params."""
        key = f"{route}:{major}"
        found = self._buckets.get(key)
        if found is None:
            limit, window = (
                (EDIT_LIMIT, EDIT_WINDOW)
                if route in EDIT_ROUTES
                else (DEFAULT_LIMIT, DEFAULT_WINDOW)
            )
            # Discord's bucket hash names the route, not the major parameter.
            digest = hashlib.sha256(route.encode()).hexdigest()[:32]
            found = Bucket(bucket_hash=digest, limit=limit, window=window)
            self._buckets[key] = found
        return found

    def acquire(self, bucket: Bucket) -> float | None:
        """Count a request against a bucket; return seconds to wait if it is exhausted."""
        wait = bucket.try_acquire(self._monotonic())
        if wait is not None:
            self.route_rejected += 1
        return wait

    def headers(self, bucket: Bucket) -> dict[str, str]:
        """Return the rate-limit headers for a bucket now."""
        return bucket.headers(self._monotonic(), self._wall())

    def reset(self) -> None:
        """Forget every bucket, and restore the global limit to Discord's."""
        self._buckets.clear()
        self.global_limit.reset()
        self.route_rejected = 0

    def snapshot(self) -> dict[str, Any]:
        """The global limit and the 429s answered, global and per route."""
        return {**self.global_limit.snapshot(), "route_429s": self.route_rejected}


def too_many_requests_body(retry_after: float, *, is_global: bool = False) -> dict[str, object]:
    """Return Discord's 429 JSON body."""
    return {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": is_global,
    }


def retry_after_header(retry_after: float) -> str:
    """Return the Retry-After header value (whole seconds, rounded up, as Discord sends)."""
    return str(max(math.ceil(retry_after), 1))
