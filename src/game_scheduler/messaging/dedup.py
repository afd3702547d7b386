"""Consumer-side deduplication: a message id is handled at most once per database.

Delivery is at-least-once (a scheduler that dies between publish and commit republishes
with the same `message_id`). A handler calls `record_message_once` in the same transaction
as its own work: the record and the work commit together, or neither does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.db.models import ProcessedMessage


def record_message_once(session: Session, message_id: str) -> bool:
    """Record `message_id` in the caller's transaction; False if it was already recorded.

    A concurrent transaction recording the same id makes this wait for it: False if it
    commits, True if it rolls back, so two consumers never both handle one message.
    """
    statement = (
        insert(ProcessedMessage)
        .values(message_id=message_id)
        .on_conflict_do_nothing(index_elements=[ProcessedMessage.message_id])
        .returning(ProcessedMessage.message_id)
    )
    return session.execute(statement).first() is not None


def forget_processed_before(session: Session, cutoff: datetime) -> int:
    """Delete records older than `cutoff` (well past any redelivery); returns how many."""
    statement = delete(ProcessedMessage).where(ProcessedMessage.processed_at < cutoff)
    # A bulk DELETE always yields a CursorResult; Session.execute is typed more broadly.
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
