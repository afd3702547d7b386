"""Prometheus metrics of event consumption, registered in the registry the caller injects.

One rule for process-wide state across the project: each component's metrics are an
object built on a `CollectorRegistry` (`ConsumerMetrics`, `BotMetrics`,
`SchedulerMetrics`, `ApiMetrics`), handed to what records them; the composition root
builds them once on the registry its metrics server serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# Label used for a message whose type could not be read or is not an EventType.
UNKNOWN_EVENT_TYPE = "unknown"


@dataclass(frozen=True)
class ConsumerMetrics:
    """Events handled and failed by the consumer, the one place that sees every outcome."""

    registry: CollectorRegistry
    events_handled: Counter
    events_failed: Counter
    event_handling_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ConsumerMetrics:
        """Register the families in `registry` (once per registry: Prometheus forbids twice)."""
        return cls(
            registry=registry,
            events_handled=Counter(
                "game_scheduler_bot_events_handled",
                "Events the bot's consumer handled and acknowledged, by event type.",
                ["event_type"],
                registry=registry,
            ),
            events_failed=Counter(
                "game_scheduler_bot_events_failed",
                "Events whose handling failed, by event type and outcome "
                "(retry: requeued for another delivery; dead_letter: rejected to the DLQ).",
                ["event_type", "outcome"],
                registry=registry,
            ),
            event_handling_seconds=Histogram(
                "game_scheduler_bot_event_handling_seconds",
                "Time from delivery to acknowledgement of a handled event, by event type.",
                ["event_type"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
                registry=registry,
            ),
        )
