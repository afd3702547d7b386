"""The SQL that decides what is due: claim, next due time, mark processed, pending count.

Built once per daemon from a model class and two field names, with SQLAlchemy Core
expressions, so the same statements serve every schedule table. "Due" is always decided
by the database clock (`now()`, `clock_timestamp()`), never by the daemon host's clock.

The two statements of the daemon's loop (claim, next due) are compiled to SQL once and run
on the pool's psycopg connection, prepared: SQLAlchemy's execution and row handling cost
more than the database's own work on a small claim (1.1 ms against 0.5 ms for a lone row,
17 us a row on a burst; measured), and every claim pays it. The rows come back as named
tuples, read by the model's column names like SQLAlchemy rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import (
    ClauseElement,
    Engine,
    Select,
    Update,
    any_,
    bindparam,
    create_engine,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import InstrumentedAttribute, Session

from game_scheduler.config import to_sqlalchemy_url
from game_scheduler.scheduler.errors import ScheduleConfigError

# Batches written to the broker beyond the one whose confirms are awaited (dispatch.py), so
# up to BATCHES_IN_FLIGHT are in the broker's hands at once. A quorum queue confirms once
# its log is synced; with several batches in hand it syncs them together. Two, not four:
# with four the broker spent about 40% more CPU on the same burst (measured), and on two
# cores that CPU is the daemon's and PostgreSQL's too (docs/decisions.md).
BATCHES_AHEAD = 2
BATCHES_IN_FLIGHT = BATCHES_AHEAD + 1
# Database connections a dispatch pass holds at most: one per batch in flight (each keeps
# its claim's transaction open until its confirm) and one for the claim made ahead.
PASS_CONNECTIONS = BATCHES_IN_FLIGHT + 1

# Counting a huge backlog on every pass would cost more than the gauge is worth.
PENDING_COUNT_CAP = 100_000


def scheduler_engine(database_url: str, application_name: str) -> Engine:
    """The daemon's engine: a connection per batch in flight, no pre-ping, commits that skip
    the WAL flush, plans that keep to the indexes."""
    # Not db.engine.make_engine: its pre-ping costs a round trip on every claim, and the
    # daemon already treats any database error as "back off, reconnect, claim again".
    # synchronous_commit=off: losing a mark in a database crash only republishes its rows
    # (consumers deduplicate on message_id), and the broker's fsync and ours would
    # otherwise queue behind each other on every batch.
    return create_engine(
        to_sqlalchemy_url(database_url),
        pool_size=PASS_CONNECTIONS,
        max_overflow=0,
        pool_pre_ping=False,
        # The most recently used connection first: a lone row's claim, and the first claim
        # of a burst, run where the claim is already prepared and the caches are warm.
        pool_use_lifo=True,
        connect_args={
            "connect_timeout": 10,
            "application_name": application_name[:63],
            # enable_seqscan=off: the claim is prepared once and its plan kept; planned on
            # a small table, it scanned the whole table for the ids to mark, and the first
            # claim of a burst of 10,000 took 2.5-4.5 ms instead of 0.5 (measured). Every
            # statement of the daemon has an index to use; this keeps it using it.
            "options": "-c synchronous_commit=off -c enable_seqscan=off",
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    )


@dataclass(frozen=True)
class ClaimedBatch:
    """Rows claimed in the current transaction, and the database time of the claim."""

    rows: list[Any]  # Rows: attribute access by the model's column names
    claimed_at: datetime  # database clock_timestamp() when the rows were claimed


@dataclass(frozen=True)
class NextDue:
    """When the earliest unprocessed row is due, and how many are due already."""

    seconds_until: float | None  # by the database clock; negative if overdue; None if none
    pending_due: int  # unprocessed rows already due, capped at PENDING_COUNT_CAP


class ScheduleQueries:
    """The statements for one schedule table, identified by model class and field names."""

    def __init__(self, model_class: type[Any], time_field: str, status_field: str) -> None:
        name = getattr(model_class, "__name__", repr(model_class))
        self.model_class = model_class
        self.table_name: str = getattr(model_class, "__tablename__", name)
        self.id_col = self._column(model_class, "id", name)
        self.time_col = self._column(model_class, time_field, name)
        self.status_col = self._column(model_class, status_field, name)
        self.time_field = time_field
        self.status_field = status_field
        # A pass asks for a few sizes only (dispatch.batch_sizes): each is compiled once.
        self._claim_sql: dict[int, str] = {}
        self._next_due_sql = _compiled(self.next_due_statement())

    @staticmethod
    def _column(model_class: type[Any], field: str, name: str) -> InstrumentedAttribute[Any]:
        column = getattr(model_class, field, None)
        if not isinstance(column, InstrumentedAttribute):
            raise ScheduleConfigError(f"{name} has no column {field!r}", model=name, field=field)
        return column

    def claim_statement(self, batch_size: int) -> Update:
        """Mark the oldest due rows processed in this transaction and return them.

        `FOR UPDATE SKIP LOCKED` picks rows no other replica holds; the UPDATE marks them at
        once, so each row is written once, not locked and then written again. Nobody sees
        the marks until the caller commits, which it does only after the broker confirmed
        every message; a failed publish rolls the marks back.
        """
        table = self.model_class.__table__
        due = (
            select(self.id_col)
            .where(~self.status_col, self.time_col <= func.now())
            .order_by(self.time_col)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        # `id = ANY(ARRAY(...))`, not a join with a CTE: the planner hashed the whole table
        # to join 500 ids (5 ms of a 500-row claim at 10,000 rows); an array of ids is
        # looked up in the primary key.
        return (
            update(table)
            .where(table.c.id == any_(func.array(due)))
            .values({self.status_field: True})
            .returning(*table.columns, func.clock_timestamp().label("claimed_at"))
        )

    def mark_statement(self) -> Update:
        """One UPDATE for a whole batch: `status = true WHERE id = ANY(:ids)`."""
        ids = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
        table = self.model_class.__table__
        return update(table).where(table.c.id == any_(ids)).values({self.status_field: True})

    def next_due_statement(self) -> Select[Any]:
        """Seconds until the earliest unprocessed row, and the count of rows already due."""
        # clock_timestamp(), not now(): now() is the transaction's start, a little earlier
        # than this statement, and the difference would make the daemon wake late.
        seconds = (
            select(func.extract("epoch", func.min(self.time_col) - func.clock_timestamp()))
            .where(~self.status_col)
            .scalar_subquery()
        )
        # now() is stable, so the partial index serves the range; the LIMIT caps the cost.
        due = (
            select(self.id_col)
            .where(~self.status_col, self.time_col <= func.now())
            .limit(PENDING_COUNT_CAP)
            .subquery()
        )
        pending = select(func.count()).select_from(due).scalar_subquery()
        return select(seconds, pending)

    def earliest_statement(self) -> Select[Any]:
        """The earliest unprocessed row's due time (`SchedulerDaemon.get_next_due_item`)."""
        return select(func.min(self.time_col)).where(~self.status_col)

    def claim_sql(self, batch_size: int) -> str:
        """`claim_statement` compiled, once per batch size."""
        sql = self._claim_sql.get(batch_size)
        if sql is None:
            sql = self._claim_sql[batch_size] = _compiled(self.claim_statement(batch_size))
        return sql

    def claim(self, connection: psycopg.Connection[Any], batch_size: int) -> ClaimedBatch | None:
        """Claim (and mark, uncommitted) up to `batch_size` due rows; None if none are due."""
        sql = self.claim_sql(batch_size)
        with connection.cursor(row_factory=namedtuple_row) as cursor:
            rows: list[Any] = cursor.execute(sql, prepare=True).fetchall()
        if not rows:
            return None
        # RETURNING keeps no order: publish in due order all the same.
        rows.sort(key=lambda row: getattr(row, self.time_field))
        return ClaimedBatch(rows=rows, claimed_at=rows[0].claimed_at)

    def mark_processed(self, session: Session, ids: Sequence[uuid.UUID]) -> None:
        """Set the status field on the given rows, in the session's transaction."""
        if ids:
            session.execute(self.mark_statement(), {"ids": list(ids)})

    def next_due(self, connection: psycopg.Connection[Any]) -> NextDue:
        """The wait until the next due row, measured by the database clock."""
        row = connection.execute(self._next_due_sql, prepare=True).fetchone()
        assert row is not None  # an aggregate always returns a row
        seconds = None if row[0] is None else float(row[0])
        return NextDue(seconds_until=seconds, pending_due=int(row[1]))

    def earliest(self, session: Session) -> datetime | None:
        """The earliest unprocessed row's due time, or None when nothing is scheduled."""
        value: datetime | None = session.execute(self.earliest_statement()).scalar_one()
        return value


_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


def _compiled(statement: ClauseElement) -> str:
    """PostgreSQL SQL text with every parameter inlined (they are constants here)."""
    return str(statement.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))
