"""Prometheus metrics of the scheduler daemons, labelled by `schedule` (the table name)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Lag is due time to broker confirm; the target is a p99 under 10 ms, so the buckets are
# fine at the low end and still show a backlog of minutes.
LAG_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)


@dataclass(frozen=True)
class SchedulerMetrics:
    """The metric families, registered once in a registry and injected into the daemon."""

    dispatch_lag: Histogram
    dispatched: Counter
    pending_due: Gauge
    reconnects: Counter
    publish_failures: Counter
    unbuildable: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SchedulerMetrics:
        """Register the families in `registry`."""
        return cls(
            dispatch_lag=Histogram(
                "game_scheduler_scheduler_dispatch_lag_seconds",
                "Seconds from a row's due time to the broker's confirm of its event",
                ["schedule"],
                buckets=LAG_BUCKETS,
                registry=registry,
            ),
            dispatched=Counter(
                "game_scheduler_scheduler_rows_dispatched",
                "Rows whose event was confirmed and which were marked processed",
                ["schedule"],
                registry=registry,
            ),
            pending_due=Gauge(
                "game_scheduler_scheduler_pending_due_rows",
                "Unprocessed rows already due, measured when the daemon goes to sleep",
                ["schedule"],
                registry=registry,
            ),
            reconnects=Counter(
                "game_scheduler_scheduler_reconnects",
                "Connections re-established after a failure",
                ["schedule", "connection"],
                registry=registry,
            ),
            publish_failures=Counter(
                "game_scheduler_scheduler_publish_failures",
                "Batches the broker did not confirm in full; their rows stay unprocessed",
                ["schedule"],
                registry=registry,
            ),
            unbuildable=Counter(
                "game_scheduler_scheduler_rows_unbuildable",
                "Rows whose event could not be built; marked processed without publishing",
                ["schedule"],
                registry=registry,
            ),
        )

    def init_labels(self, schedule: str) -> None:
        """Export every series of `schedule` at zero, so dashboards see it before any event."""
        self.dispatch_lag.labels(schedule)
        self.dispatched.labels(schedule)
        self.pending_due.labels(schedule)
        self.publish_failures.labels(schedule)
        self.unbuildable.labels(schedule)
        for connection in ("listener", "database_or_broker"):
            self.reconnects.labels(schedule, connection)

    def record_dispatch(self, schedule: str, lags: list[float], published: int) -> None:
        """Count a committed batch and observe each row's lag (seconds)."""
        histogram = self.dispatch_lag.labels(schedule)
        for lag in lags:
            histogram.observe(lag)
        self.dispatched.labels(schedule).inc(published)
