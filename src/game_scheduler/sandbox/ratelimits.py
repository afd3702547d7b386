"""Per-route rate-limit buckets: the headers Discord sends and the 429s it answers."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Discord limits message edits to 5 per 5 seconds per channel; the sandbox enforces it.
EDIT_LIMIT = 5
EDIT_WINDOW = 5.0  # seconds
# Other routes get a generous bucket, close to Discord's global 50 requests per second.
DEFAULT_LIMIT = 50
DEFAULT_WINDOW = 1.0  # seconds

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
        return bucket.try_acquire(self._monotonic())

    def headers(self, bucket: Bucket) -> dict[str, str]:
        """Return the rate-limit headers for a bucket now."""
        return bucket.headers(self._monotonic(), self._wall())

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


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
