"""What the benchmarks share: a database and a RabbitMQ vhost of their own, percentiles.

Imported by the scripts in this folder (`python bench/<name>.py` puts it on the path).
"""

from __future__ import annotations

import math
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from game_scheduler.db.migrate import migrate

ADMIN_DATABASE_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_BASE = os.environ.get("BENCH_RABBITMQ_BASE", "amqp://guest:guest@127.0.0.1:5672")


def rabbitmqctl(*args: str) -> None:
    """Run rabbitmqctl (vhosts cannot be made over AMQP)."""
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def fresh_database(prefix: str = "gs_bench") -> Iterator[str]:
    """The URL of a migrated database of the benchmark's own, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def fresh_vhost(prefix: str = "gs-bench") -> Iterator[str]:
    """The AMQP URL of a RabbitMQ vhost of the benchmark's own, deleted afterwards."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"{RABBITMQ_BASE}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]
