"""Fixtures of the scheduler tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from game_scheduler.scheduler.generic_scheduler_daemon import SchedulerDaemon
from tests.scheduler.helpers import ScheduleKind, make_daemon


@pytest.fixture
def new_daemon(database_url: str) -> Iterator[Callable[..., SchedulerDaemon]]:
    """Make daemons on this test's database (see `make_daemon`); all are closed afterwards."""
    made: list[SchedulerDaemon] = []

    def factory(kind: ScheduleKind, **kwargs: Any) -> SchedulerDaemon:
        daemon = make_daemon(database_url, kind, **kwargs)
        made.append(daemon)
        return daemon

    yield factory
    for daemon in made:
        daemon.close()
