"""The generic daemon against a real PostgreSQL; a fake publisher where a fake is the point."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from game_scheduler.db.models import NotificationSchedule
from game_scheduler.messaging.events import EventType
from game_scheduler.messaging.publisher import OutgoingMessage, SentBatch
from game_scheduler.observability import Heartbeat, MetricsServer
from game_scheduler.scheduler.dispatch import FIRST_BATCH, batch_sizes
from game_scheduler.scheduler.errors import ScheduleConfigError
from game_scheduler.scheduler.event_builders import build_game_reminder_event
from game_scheduler.scheduler.generic_scheduler_daemon import WARM_UP_AHEAD, SchedulerDaemon
from game_scheduler.scheduler.postgres_listener import WakeReason
from game_scheduler.scheduler.queries import BATCHES_IN_FLIGHT, ScheduleQueries, scheduler_engine
from game_scheduler.scheduler.runner import build_daemon
from game_scheduler.testing import FakeListener, FakePublisher
from tests.scheduler.helpers import (
    ALL_KINDS,
    NOTIFICATIONS,
    OUTBOX,
    SERIES,
    STATUS_TRANSITIONS,
    ScheduleKind,
    TimedPublisher,
    insert_rows,
    running,
    unprocessed,
    wait_for,
)

EXPECTED_TYPES = {
    NOTIFICATIONS.name: EventType.GAME_REMINDER_DUE,
    STATUS_TRANSITIONS.name: EventType.GAME_STATUS_TRANSITION_DUE,
    OUTBOX.name: EventType.GAME_UPDATED,
    SERIES.name: EventType.GAME_SERIES_DUE,
}


def test_unknown_field_is_rejected_at_construction() -> None:
    with pytest.raises(ScheduleConfigError, match="no column 'when'"):
        build_daemon(
            "postgresql://unused/db",
            "amqp://unused",
            "notification_schedule_changed",
            NotificationSchedule,
            "when",
            "sent",
            build_game_reminder_event,
            publisher=FakePublisher(),
            listener=FakeListener(),
        )


@pytest.mark.integration
@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.name)
def test_query_functions_work_for_every_schedule_type(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str, kind: ScheduleKind
) -> None:
    daemon = new_daemon(kind, listener=FakeListener())
    assert daemon.get_next_due_item() is None
    [(first_id, first_due), _] = insert_rows(database_url, kind, 1, in_seconds=60) + insert_rows(
        database_url, kind, 1, in_seconds=120
    )
    assert daemon.get_next_due_item() == first_due
    daemon.mark_item_processed(first_id)
    assert unprocessed(database_url, kind) == 1
    next_due = daemon.get_next_due_item()
    assert next_due is not None
    assert next_due > first_due


@pytest.mark.integration
@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.name)
def test_due_rows_are_published_and_marked_future_rows_wait(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str, kind: ScheduleKind
) -> None:
    publisher = FakePublisher()
    daemon = new_daemon(kind, publisher=publisher, listener=FakeListener())
    due = insert_rows(database_url, kind, 3, in_seconds=-1)
    insert_rows(database_url, kind, 2, in_seconds=3600)

    assert daemon.process_due_items() == 3

    assert sorted(m.message_id for m in publisher.published) == sorted(str(i) for i, _ in due)
    assert {m.event.event_type for m in publisher.published} == {EXPECTED_TYPES[kind.name]}
    assert unprocessed(database_url, kind) == 2
    assert daemon.process_due_items() == 0


def test_claims_start_small_and_grow_fourfold_to_the_batch_size() -> None:
    assert list(itertools.islice(batch_sizes(500), 6)) == [4, 16, 64, 256, 500, 500]
    assert list(itertools.islice(batch_sizes(10), 3)) == [4, 10, 10]
    assert list(itertools.islice(batch_sizes(3), 2)) == [3, 3]


@pytest.mark.integration
def test_more_rows_than_a_batch_all_go_out_in_batches(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = FakePublisher()
    daemon = new_daemon(OUTBOX, publisher=publisher, batch_size=50)
    insert_rows(database_url, OUTBOX, 175, in_seconds=-1)

    assert daemon.process_due_items() == 175

    # A small first claim (the burst's first messages leave at once), then full batches.
    second = 4 * FIRST_BATCH
    assert [len(b) for b in publisher.batches] == [
        FIRST_BATCH,
        second,
        50,
        50,
        50,
        175 - FIRST_BATCH - second - 150,
    ]
    assert len({m.message_id for m in publisher.published}) == 175
    assert unprocessed(database_url, OUTBOX) == 0


class SequencePublisher(FakePublisher):
    """A FakePublisher that notes the order of writes and confirms, with batch sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def start_batch(self, messages: Sequence[OutgoingMessage]) -> SentBatch:
        self.calls.append(("write", len(messages)))
        return super().start_batch(messages)

    def wait_confirmed(self, batch: SentBatch) -> None:
        super().wait_confirmed(batch)
        self.calls.append(("confirmed", len(batch.message_ids)))


@pytest.mark.integration
def test_the_first_batch_goes_out_alone_and_the_rest_are_pipelined(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = SequencePublisher()
    daemon = new_daemon(OUTBOX, publisher=publisher, batch_size=50)
    insert_rows(database_url, OUTBOX, 175, in_seconds=-1)

    assert daemon.process_due_items() == 175

    # The first messages of a burst are confirmed before anything else is claimed ...
    assert publisher.calls[:2] == [("write", FIRST_BATCH), ("confirmed", FIRST_BATCH)]
    # ... then batches are written ahead of their predecessors' confirms.
    second = 4 * FIRST_BATCH
    rest = publisher.calls[2:]
    assert rest.index(("write", 50)) < rest.index(("confirmed", second))
    sizes = [second, 50, 50, 50, 175 - FIRST_BATCH - second - 150]
    assert sorted(rest) == sorted([("write", n) for n in sizes] + [("confirmed", n) for n in sizes])


@pytest.mark.integration
@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.name)
def test_the_claim_is_planned_on_the_indexes_even_for_a_small_table(
    kind: ScheduleKind, database_url: str
) -> None:
    # The claim is prepared once and its plan kept: a plan made while the table was small
    # must still suit the burst that fills it (a scan of the whole table per claim did not).
    queries = ScheduleQueries(kind.model_class, kind.time_field, kind.status_field)
    engine = scheduler_engine(database_url, "test")
    try:
        with engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN " + queries.claim_sql(16)).scalars().all()
    finally:
        engine.dispose()
    assert not [line for line in plan if "Seq Scan" in line], "\n".join(plan)


@pytest.mark.integration
def test_a_row_fires_at_its_time_and_not_before(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher()
    daemon = new_daemon(NOTIFICATIONS, publisher=publisher)
    with running(daemon):
        [(row_id, due)] = insert_rows(database_url, NOTIFICATIONS, 1, in_seconds=0.3)
        time.sleep(max((due - datetime.now(UTC)).total_seconds() - 0.02, 0))
        assert publisher.published == [], "published before its due time"
        wait_for(lambda: str(row_id) in publisher.confirmed_at, timeout=2)
    lag = publisher.confirmed_at[str(row_id)] - due
    assert timedelta(0) <= lag < timedelta(milliseconds=50)


@pytest.mark.integration
def test_notify_wakes_a_sleeping_daemon_for_an_earlier_row(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher()
    insert_rows(database_url, STATUS_TRANSITIONS, 1, in_seconds=3600)
    daemon = new_daemon(STATUS_TRANSITIONS, publisher=publisher)
    with running(daemon):
        [(row_id, due)] = insert_rows(database_url, STATUS_TRANSITIONS, 1, in_seconds=0.2)
        wait_for(lambda: str(row_id) in publisher.confirmed_at, timeout=2)
    assert publisher.confirmed_at[str(row_id)] - due < timedelta(milliseconds=50)
    assert len(publisher.published) == 1


@pytest.mark.integration
def test_publish_failure_leaves_rows_and_retry_sends_the_same_message_ids(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher()
    publisher.fail_next(2)
    registry = CollectorRegistry()
    daemon = new_daemon(OUTBOX, publisher=publisher, registry=registry)
    # Fewer rows than the first claim takes: each pass is one batch, and each fails once.
    rows = insert_rows(database_url, OUTBOX, FIRST_BATCH - 1, in_seconds=-1)
    with running(daemon, settle=0):
        wait_for(lambda: len(publisher.published) == FIRST_BATCH - 1, timeout=5)
    labels = {"schedule": "event_outbox"}
    assert registry.get_sample_value("game_scheduler_scheduler_publish_failures_total", labels) == 2
    assert sorted(m.message_id for m in publisher.published) == sorted(str(i) for i, _ in rows)
    assert unprocessed(database_url, OUTBOX) == 0


@pytest.mark.integration
def test_pending_gauge_shows_the_backlog_while_the_broker_fails(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = FakePublisher()
    publisher.fail_next(1000)
    registry = CollectorRegistry()
    daemon = new_daemon(OUTBOX, publisher=publisher, registry=registry)
    insert_rows(database_url, OUTBOX, 7, in_seconds=-1)
    labels = {"schedule": "event_outbox"}
    with running(daemon, settle=0):
        wait_for(
            lambda: (
                registry.get_sample_value("game_scheduler_scheduler_pending_due_rows", labels) == 7
            )
        )
    assert unprocessed(database_url, OUTBOX) == 7


@pytest.mark.integration
def test_rows_stay_unprocessed_while_publishing_fails(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = FakePublisher()
    publisher.fail_next(1)
    daemon = new_daemon(OUTBOX, publisher=publisher, listener=FakeListener())
    insert_rows(database_url, OUTBOX, 5, in_seconds=-1)
    with pytest.raises(Exception, match="fake failure"):
        daemon.process_due_items()
    assert unprocessed(database_url, OUTBOX) == 5
    assert daemon.process_due_items() == 5


@pytest.mark.integration
def test_two_daemons_never_publish_the_same_row(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publishers = [TimedPublisher(delay=0.002), TimedPublisher(delay=0.002)]
    daemons = [new_daemon(OUTBOX, publisher=p, batch_size=100) for p in publishers]
    with running(daemons[0]), running(daemons[1]):
        rows = insert_rows(database_url, OUTBOX, 2000, in_seconds=0)
        wait_for(lambda: sum(len(p.published) for p in publishers) >= 2000, timeout=15)
        time.sleep(0.1)  # a duplicate would arrive now
    ids = [m.message_id for p in publishers for m in p.published]
    assert sorted(ids) == sorted(str(i) for i, _ in rows)
    assert all(p.published for p in publishers), "one daemon did all the work"


@pytest.mark.integration
def test_listener_reconnect_makes_a_claim_pass_at_once(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher()
    registry = CollectorRegistry()
    daemon = new_daemon(OUTBOX, publisher=publisher, registry=registry)
    with running(daemon), psycopg.connect(database_url, autocommit=True) as conn:
        # A due row the daemon is never told about: triggers are off for this session.
        conn.execute("SET session_replication_role = replica")
        inserted = conn.execute(
            "INSERT INTO event_outbox (event_type, payload) "
            "VALUES ('game.updated', '{}') RETURNING id"
        ).fetchone()
        assert inserted is not None
        row_id = inserted[0]
        time.sleep(0.2)
        assert publisher.published == []
        # Every connection of the daemon goes: the listener's and the pool's.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        wait_for(lambda: str(row_id) in publisher.confirmed_at, timeout=5)
    labels = {"schedule": "event_outbox", "connection": "listener"}
    reconnects = registry.get_sample_value("game_scheduler_scheduler_reconnects_total", labels)
    assert reconnects is not None
    assert reconnects >= 1


@pytest.mark.integration
def test_stop_finishes_the_batch_in_flight_and_run_returns(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher(delay=0.5)
    daemon = new_daemon(OUTBOX, publisher=publisher, batch_size=10)
    # More batches than the pipeline holds, so some are still unclaimed at the stop.
    rows = 10 * (BATCHES_IN_FLIGHT + 1)
    insert_rows(database_url, OUTBOX, rows, in_seconds=-1)
    started = threading.Event()

    def run() -> None:
        started.set()
        daemon.run()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    time.sleep(0.2)  # the first batch is being confirmed
    daemon.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert publisher.closed
    # Every batch the broker confirmed is marked; nothing confirmed is left unmarked.
    assert unprocessed(database_url, OUTBOX) == rows - len(publisher.published)
    assert FIRST_BATCH <= len(publisher.published) < rows  # the batch in flight finished


@pytest.mark.integration
def test_stop_while_sleeping_returns_at_once(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    daemon = new_daemon(NOTIFICATIONS)
    with running(daemon) as thread:
        started = time.monotonic()
    assert not thread.is_alive()
    assert time.monotonic() - started < 1


@pytest.mark.integration
def test_an_unbuildable_outbox_row_is_marked_and_does_not_block(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = FakePublisher()
    daemon = new_daemon(OUTBOX, publisher=publisher, listener=FakeListener())
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO event_outbox (event_type, payload) VALUES ('no.such', '{}')")
    good = insert_rows(database_url, OUTBOX, 2, in_seconds=-1)
    assert daemon.process_due_items() == 3
    assert sorted(m.message_id for m in publisher.published) == sorted(str(i) for i, _ in good)
    assert unprocessed(database_url, OUTBOX) == 0


@pytest.mark.integration
def test_metrics_count_rows_and_lag(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    registry = CollectorRegistry()
    daemon = new_daemon(OUTBOX, registry=registry, listener=FakeListener())
    insert_rows(database_url, OUTBOX, 4, in_seconds=-2)
    daemon.process_due_items()
    labels = {"schedule": "event_outbox"}
    assert registry.get_sample_value("game_scheduler_scheduler_rows_dispatched_total", labels) == 4
    assert (
        registry.get_sample_value("game_scheduler_scheduler_dispatch_lag_seconds_count", labels)
        == 4
    )
    lag_sum = registry.get_sample_value("game_scheduler_scheduler_dispatch_lag_seconds_sum", labels)
    assert lag_sum is not None
    assert 8 <= lag_sum < 12


@pytest.mark.integration
def test_health_fails_when_the_loop_is_stuck(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    publisher = TimedPublisher()
    publisher.gate.clear()  # the broker never confirms
    heartbeat = Heartbeat(max_silence=0.3)
    daemon = new_daemon(OUTBOX, publisher=publisher, heartbeat=heartbeat, keepalive_interval=0.05)
    server = MetricsServer(0, heartbeat, host="127.0.0.1", registry=CollectorRegistry()).start()
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        with running(daemon):
            assert urllib.request.urlopen(url).status == 200
            insert_rows(database_url, OUTBOX, 1, in_seconds=0)
            time.sleep(0.6)
            with pytest.raises(urllib.error.HTTPError) as failed:
                urllib.request.urlopen(url)
            assert failed.value.code == 503
            assert json.loads(failed.value.read())["ok"] is False
            publisher.gate.set()
            wait_for(lambda: len(publisher.published) == 1)
            wait_for(heartbeat.is_alive, timeout=1)  # the loop comes round: healthy again
    finally:
        server.stop()


def test_sleep_uses_the_fake_listener_and_keeps_the_publisher_alive() -> None:
    listener = FakeListener()
    publisher = FakePublisher()
    daemon = build_daemon(
        "postgresql://unused/db",
        "amqp://unused",
        "event_outbox_changed",
        NotificationSchedule,
        "notification_time",
        "sent",
        build_game_reminder_event,
        publisher=publisher,
        listener=listener,
        keepalive_interval=0.01,
    )
    daemon._wait(0.055, wake_on_notify=True)
    assert publisher.keepalives >= 4
    assert max(listener.waits) <= 0.01 + 1e-9
    listener.notify()
    assert daemon._wait(10, wake_on_notify=True) is WakeReason.NOTIFIED


@pytest.mark.integration
def test_the_sleep_ends_at_the_due_time_after_a_warm_up_just_before(
    new_daemon: Callable[..., SchedulerDaemon], database_url: str
) -> None:
    listener = FakeListener()
    publisher = FakePublisher()
    daemon = new_daemon(NOTIFICATIONS, publisher=publisher, listener=listener)
    [(_, due)] = insert_rows(database_url, NOTIFICATIONS, 1, in_seconds=0.3)

    daemon._sleep_until_next_due(0)

    # Woken WARM_UP_AHEAD early, the daemon touched the broker connection, then slept the
    # rest: the row is due now, not a moment later and not before.
    *_, long_wait, short_wait = listener.waits
    assert 0.25 < long_wait < 0.3
    assert 0 < short_wait <= WARM_UP_AHEAD
    assert publisher.keepalives == 1
    assert datetime.now(UTC) >= due
    assert daemon.process_due_items() == 1
