"""One queue for every REST request the bot makes: Discord's global budget, most urgent first.

Discord lets a bot make 50 requests per second in all (interaction callbacks aside), and
answers more with a global 429 that stalls every request. discord.py only learns of the
limit from that 429. So every request waits here for its turn before it leaves: turns
are handed out at `rate` per second (a little under 50, see docs/bot.md), never more than
`limit` in any second, and to the most urgent waiter first:

    STATUS     a game's status change (start, end, cancellation) shown in its message
    REMINDER   reminder and cancellation DMs that are due now
    POST       the first post of a new game
    REFRESH    edits of games that start soon (joins, edits), and anything unmarked
    BACKGROUND edits of games far in the future, the Discord events mirror

Urgency travels with the work in a context variable (`request_urgency`), so the code
that decides it (the refresher, the handlers) is not the code that sends; discord.py's
requests are gated where they leave, in an aiohttp trace hook (`trace_config`), which
also catches discord.py's own retries. Equal urgency is served first come, first served.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from enum import IntEnum
from types import SimpleNamespace

import aiohttp

from game_scheduler.bot.metrics import BotMetrics

DISCORD_GLOBAL_LIMIT = 50  # requests in any one second, Discord's global limit
# Turns per second: under the limit by enough that requests bunched on their way (event
# loop stalls, the network) still arrive at no more than 50 in any second.
DEFAULT_RATE = 46.0
DEFAULT_BURST = 1  # turns that may be handed out at once after a quiet spell
# The pump's sleep ends up to a millisecond late each time. Had the bucket held no more
# than `burst` turns, that lateness would be lost on every turn (44 turns a second were
# measured at a rate of 46); this much of a turn more is carried over instead, so the
# rate holds, and two turns are still never handed out together (a burst of 2 was tried:
# one global 429 in a Friday run).
LATENESS_CARRIED = 0.25  # of a turn
# Paths (after /api/v10) that Discord's global limit does not bind: interaction callbacks
# and their webhooks.
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


class Urgency(IntEnum):
    """How soon a request must reach Discord; lower is served first."""

    STATUS = 0
    REMINDER = 1
    POST = 2
    REFRESH = 3
    BACKGROUND = 4


_urgency: ContextVar[Urgency] = ContextVar("discord_request_urgency", default=Urgency.REFRESH)


def current_urgency() -> Urgency:
    """The urgency requests made here and now are sent with."""
    return _urgency.get()


@contextlib.contextmanager
def request_urgency(urgency: Urgency) -> Iterator[None]:
    """Send the requests made inside the block (and tasks started in it) at `urgency`."""
    token = _urgency.set(urgency)
    try:
        yield
    finally:
        _urgency.reset(token)


class RequestScheduler:
    """Hands out turns to send at `rate` per second, never `limit` in one second, by urgency."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,  # turns per second
        *,
        limit: int = DISCORD_GLOBAL_LIMIT,  # hard cap of turns in any 1 s
        burst: int = DEFAULT_BURST,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: BotMetrics | None = None,
    ) -> None:
        if rate <= 0 or limit < 1 or burst < 1:
            raise ValueError("rate must be positive, limit and burst at least 1")
        self.rate = rate
        self._interval = 1.0 / rate
        self._limit = limit
        self._burst = burst
        self._monotonic = monotonic
        self._metrics = metrics or BotMetrics.unregistered()
        self._tokens = float(burst)
        self._refilled_at = monotonic()
        self._granted: deque[float] = deque()  # turns handed out in the last second
        self._waiting: list[tuple[int, int, float, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self.granted_total = 0
        # Waiters more urgent than BACKGROUND; `_calm` is set while there are none.
        self._urgent_waiting = 0
        self._calm = asyncio.Event()
        self._calm.set()

    @property
    def waiting(self) -> int:
        """Requests waiting for a turn."""
        return sum(1 for *_, future in self._waiting if not future.done())

    async def acquire(self, urgency: Urgency | None = None) -> None:
        """Wait for a turn to send one request (at the context's urgency by default)."""
        level = current_urgency() if urgency is None else urgency
        queued_at = self._monotonic()
        if not self._waiting and self._take(queued_at):
            self._count(level, 0.0)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(level), next(self._order), queued_at, future))
        if level < Urgency.BACKGROUND:
            self._urgent_waiting += 1
            self._calm.clear()
        self._ensure_pump()
        self._wake.set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # The turn was ours but nobody will use it: give it back.
                self._tokens = min(self._tokens + 1, float(self._burst))
                if self._granted:
                    self._granted.pop()
                self._wake.set()
            raise

    async def calm(self) -> None:
        """Return once no request more urgent than BACKGROUND waits for a turn.

        Background work (the Discord events mirror) waits here before it even reads the
        database, so that at a busy moment its reads do not slow the urgent work down.
        """
        await self._calm.wait()

    def _pop(self) -> tuple[int, int, float, asyncio.Future[None]]:
        entry = heapq.heappop(self._waiting)
        if entry[0] < Urgency.BACKGROUND:
            self._urgent_waiting -= 1
            if self._urgent_waiting == 0:
                self._calm.set()
        return entry

    def _count(self, level: Urgency, waited: float) -> None:
        self.granted_total += 1
        label = level.name.lower()
        self._metrics.discord_requests.labels(label).inc()
        self._metrics.discord_request_wait_seconds.labels(label).observe(waited)

    def _next_turn_in(self, now: float) -> float:
        """Seconds until a turn is free (0: now); refills the token bucket first."""
        self._tokens = min(
            self._tokens + (now - self._refilled_at) * self.rate, self._burst + LATENESS_CARRIED
        )
        self._refilled_at = now
        while self._granted and self._granted[0] <= now - 1.0:
            self._granted.popleft()
        wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) * self._interval
        if len(self._granted) >= self._limit:
            wait = max(wait, self._granted[0] + 1.0 - now)
        return wait

    def _take(self, now: float) -> bool:
        if self._next_turn_in(now) > 0:
            return False
        self._tokens -= 1
        self._granted.append(now)
        return True

    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._serve(), name="discord-request-scheduler")

    async def _serve(self) -> None:
        while True:
            while self._waiting and self._waiting[0][3].done():
                self._pop()  # its requester gave up
            if not self._waiting:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = self._monotonic()
            wait = self._next_turn_in(now)
            if wait > 0:
                # A new waiter may be more urgent, but it cannot make a turn come sooner.
                await asyncio.sleep(wait)
                continue
            level, _, queued_at, future = self._pop()
            if future.done():
                continue
            self._take(now)
            future.set_result(None)
            self._count(Urgency(level), now - queued_at)

    def close(self) -> None:
        """Stop handing out turns (the bot is closing)."""
        if self._pump is not None:
            self._pump.cancel()

    def trace_config(self, api_base: str) -> aiohttp.TraceConfig:
        """An aiohttp trace config that makes every request to `api_base` wait for a turn."""
        prefix = api_base.rstrip("/")
        exempt = tuple(prefix + p for p in EXEMPT_PREFIXES)

        async def on_request_start(
            _session: aiohttp.ClientSession,
            _context: SimpleNamespace,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            url = str(params.url)
            if url.startswith(prefix) and not url.startswith(exempt):
                await self.acquire()

        config = aiohttp.TraceConfig()
        config.on_request_start.append(on_request_start)
        return config
