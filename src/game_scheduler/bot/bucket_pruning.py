"""discord.py's rate-limit buckets pruned once a minute, not on every new bucket.

discord.py keeps a `Ratelimit` per route and major parameter (a channel, a DM channel).
Each time it makes a new one and holds 256 or more, `HTTPClient._try_clear_expired_ratelimits`
walks every bucket to drop those idle for 5 minutes. A bot that writes to thousands of
channels and DM channels makes a new bucket for nearly every request, so each request
walks thousands: at Friday 8 pm (1,000 start edits after 4,000 reminder DMs) that walk
took over a quarter of the event loop's time (a py-spy profile of `bench/friday.py`),
and the start edits left at 15 a second instead of 46. Pruning at most once a minute
keeps memory bounded just the same (a bucket idle for 5 minutes goes within a minute
more) at a cost of one walk a minute.

The one private name used is checked before use: if a discord.py release renames it,
the bot logs that and runs with discord.py's own behaviour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import discord

logger = logging.getLogger(__name__)

PRUNE_NAME = "_try_clear_expired_ratelimits"
PRUNE_EVERY = 60.0  # seconds between walks over the buckets


def prune_buckets_at_most_every(
    http: object, seconds: float = PRUNE_EVERY, monotonic: Callable[[], float] = time.monotonic
) -> bool:
    """Make `http` (discord.py's HTTPClient) prune its buckets at most every `seconds`;
    False (and a warning) when this discord.py has no such method."""
    prune = getattr(http, PRUNE_NAME, None)
    if not callable(prune):
        logger.warning(
            "discord.py %s has no %s; its buckets are pruned its own way",
            discord.__version__,
            PRUNE_NAME,
        )
        return False
    last = monotonic()

    def prune_now_and_then() -> None:
        nonlocal last
        now = monotonic()
        if now - last >= seconds:
            last = now
            prune()

    setattr(http, PRUNE_NAME, prune_now_and_then)
    return True
