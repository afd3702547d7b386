"""Keep the garbage collector's full passes off what a long-lived process built at startup.

A full (generation 2) collection walks every object the process holds: every imported
module, SQLAlchemy's mappings, discord.py's caches. In the bot such a pass stopped the
event loop for 50 to 110 ms (measured with `gc.callbacks` during `bench/bot.py`), and it
was the worst delay a status change saw on its way to Discord. `gc.freeze()` moves what
exists now into a permanent generation that collections skip, so later passes walk only
what was made since, and full passes come rarely (CPython runs one only once the objects
that survived since the last one reach a quarter of what it kept then).
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect startup garbage once, then exempt everything still alive from later passes."""
    gc.collect()
    gc.freeze()
