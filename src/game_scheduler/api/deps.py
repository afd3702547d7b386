"""What a route handler needs from the app (sessions, clock, settings) and list cursors."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.clock import Clock
from game_scheduler.config import Settings
from game_scheduler.domain.validation import InvalidField


@dataclass(frozen=True)
class ApiContext:
    """The app's wiring, built once by `create_app` and shared by every request."""

    settings: Settings
    clock: Clock
    session_factory: sessionmaker[Session]


def get_context(request: Request) -> ApiContext:
    """The context `create_app` stored on the app."""
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(get_context)]


def encode_cursor(position: tuple[datetime, uuid.UUID]) -> str:
    """An opaque cursor for the page after the game at `position` (start time, id)."""
    scheduled_at, game_id = position
    raw = json.dumps([scheduled_at.isoformat(), str(game_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor from `encode_cursor` stands for; InvalidField if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        scheduled_at, game_id = json.loads(raw)
        after = datetime.fromisoformat(scheduled_at)
        if after.tzinfo is None:
            raise ValueError("a cursor's time always has an offset")
        # UTC: PostgreSQL refuses some offsets that Python accepts.
        position = (after.astimezone(UTC), uuid.UUID(game_id))
    except (ValueError, TypeError, AttributeError, OverflowError):  # binascii.Error too
        raise InvalidField(
            "cursor", "is not a cursor this API gave out; pass next_cursor unchanged"
        ) from None
    return position
