"""Prometheus metrics of event consumption, exported by the bot's metrics server.

Defined once at import in the default registry, as prometheus_client intends: a counter is
process-wide state, not a connection, so this is no wiring at import time.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_HANDLED = Counter(
    "game_scheduler_bot_events_handled",
    "Events the bot's consumer handled and acknowledged, by event type.",
    ["event_type"],
)

EVENTS_FAILED = Counter(
    "game_scheduler_bot_events_failed",
    "Events whose handling failed, by event type and outcome "
    "(retry: requeued for another delivery; dead_letter: rejected to the DLQ).",
    ["event_type", "outcome"],
)

EVENT_HANDLING_SECONDS = Histogram(
    "game_scheduler_bot_event_handling_seconds",
    "Time from delivery to acknowledgement of a handled event, by event type.",
    ["event_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Label used for a message whose type could not be read or is not an EventType.
UNKNOWN_EVENT_TYPE = "unknown"
