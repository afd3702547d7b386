"""The Discord ids a game keeps (its message's, its scheduled event's), set without races.

The bot learns an id only after Discord answered, while the game may have changed in the
meantime (another writer posted it again, or the event was deleted): an id is stored
only if the column still holds what the writer read before calling Discord.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from game_scheduler.db.models import GameSession


def swap_discord_id(
    sessions: sessionmaker[Session],
    game_id: uuid.UUID,
    column: InstrumentedAttribute[int | None],
    expected: int | None,
    new: int | None,
) -> bool:
    """Set `column` to `new` if it still holds `expected`; True when it did."""
    with sessions.begin() as session:
        condition = column.is_(None) if expected is None else column == expected
        result = session.execute(
            update(GameSession)
            .where(GameSession.id == game_id, condition)
            .values({column.key: new})
            .returning(GameSession.id)
        )
        return result.first() is not None
