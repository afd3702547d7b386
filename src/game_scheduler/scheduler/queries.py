"""The SQL that decides what is due: claim, next due time, mark processed, pending count.

Built once per daemon from a model class and two field names, with SQLAlchemy Core
expressions, so the same statements serve every schedule table. "Due" is always decided
by the database clock (`now()`, `clock_timestamp()`), never by the daemon host's clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, Update, any_, bindparam, create_engine, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import InstrumentedAttribute, Session

from game_scheduler.config import to_sqlalchemy_url
from game_scheduler.scheduler.errors import ScheduleConfigError

# Batches written to the broker beyond the one whose confirms are awaited (dispatch.py), so
# up to BATCHES_IN_FLIGHT are in the broker's hands at once. A quorum queue confirms once
# its log is synced; with several batches in hand it syncs them together.
BATCHES_AHEAD = 4
BATCHES_IN_FLIGHT = BATCHES_AHEAD + 1
# Database connections a dispatch pass holds at most: one per batch in flight (each keeps
# its claim's transaction open until its confirm) and one for the claim made ahead.
PASS_CONNECTIONS = BATCHES_IN_FLIGHT + 1

# Counting a huge backlog on every pass would cost more than the gauge is worth.
PENDING_COUNT_CAP = 100_000


def scheduler_engine(database_url: str, application_name: str) -> Engine:
    """The daemon's engine: two connections, no pre-ping, commits that skip the WAL flush."""
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
        connect_args={
            "connect_timeout": 10,
            "application_name": application_name[:63],
            "options": "-c synchronous_commit=off",
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
        # Building the claim's expression costs most of a millisecond; a pass asks for a
        # few sizes only (dispatch.batch_sizes), so each is built once.
        self._claim_statements: dict[int, Update] = {}

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
            .cte("due")
        )
        return (
            update(table)
            .where(table.c.id == due.c.id)
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

    def claim(self, session: Session, batch_size: int) -> ClaimedBatch | None:
        """Claim (and mark, uncommitted) up to `batch_size` due rows; None if none are due."""
        # Core execution on the session's connection: the ORM's bulk-UPDATE path would
        # add its own bookkeeping for rows nobody loads as objects.
        statement = self._claim_statements.get(batch_size)
        if statement is None:
            statement = self._claim_statements[batch_size] = self.claim_statement(batch_size)
        rows = list(session.connection().execute(statement).all())
        if not rows:
            return None
        # RETURNING keeps no order: publish in due order all the same.
        rows.sort(key=lambda row: getattr(row, self.time_field))
        return ClaimedBatch(rows=rows, claimed_at=rows[0].claimed_at)

    def mark_processed(self, session: Session, ids: Sequence[uuid.UUID]) -> None:
        """Set the status field on the given rows, in the session's transaction."""
        if ids:
            session.execute(self.mark_statement(), {"ids": list(ids)})

    def next_due(self, session: Session) -> NextDue:
        """The wait until the next due row, measured by the database clock."""
        row = session.execute(self.next_due_statement()).one()
        seconds = None if row[0] is None else float(row[0])
        return NextDue(seconds_until=seconds, pending_due=int(row[1]))

    def earliest(self, session: Session) -> datetime | None:
        """The earliest unprocessed row's due time, or None when nothing is scheduled."""
        value: datetime | None = session.execute(self.earliest_statement()).scalar_one()
        return value
