"""The secret in a person's feed URL: made on first use, rotatable, looked up in constant time.

The token is the only key to the feed, so whoever holds the URL reads it; rotating it
makes the old URL answer 404 like any other unknown one. A lookup runs the same query
and the same constant-time comparison whether the token is malformed, unknown, rotated
or valid, so the answer's timing tells nothing about which tokens exist.
"""

from __future__ import annotations

import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from game_scheduler.calendar.links import personal_feed_url
from game_scheduler.db.models import UserSettings

TOKEN_BYTES = 32  # 256 bits of randomness, 43 URL-safe characters
TOKEN_LENGTH = 43
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# Looked up in place of a malformed token, so every lookup costs one identical query.
_NEVER_ISSUED = "!" * TOKEN_LENGTH


def new_calendar_token() -> str:
    """A fresh, unguessable token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def calendar_token_for(session: Session, user_id: int) -> str:
    """The person's token, made (and stored) the first time anyone asks for it."""
    session.execute(
        insert(UserSettings)
        .values(user_id=user_id, calendar_token=new_calendar_token())
        .on_conflict_do_nothing(index_elements=[UserSettings.user_id])
    )
    settings = session.get(UserSettings, user_id, populate_existing=True)
    assert settings is not None  # inserted or already there, in this transaction
    if settings.calendar_token is None:
        settings.calendar_token = new_calendar_token()
        session.flush()
    return settings.calendar_token


def rotate_calendar_token(session: Session, user_id: int) -> str:
    """Replace the person's token; the old feed URL stops working at commit."""
    token = new_calendar_token()
    session.execute(
        insert(UserSettings)
        .values(user_id=user_id, calendar_token=token)
        .on_conflict_do_update(
            index_elements=[UserSettings.user_id], set_={"calendar_token": token}
        )
    )
    return token


def calendar_url(session: Session, public_url: str, user_id: int) -> str:
    """The person's feed URL (`calendar_url` in GET /api/v1/me), its token made if needed."""
    return personal_feed_url(public_url, calendar_token_for(session, user_id))


def user_for_token(session: Session, token: str) -> int | None:
    """Whose feed a token opens; None for any token that does not open one."""
    well_formed = _TOKEN_SHAPE.fullmatch(token) is not None
    candidate = token if well_formed else _NEVER_ISSUED
    row = session.execute(
        select(UserSettings.user_id, UserSettings.calendar_token).where(
            UserSettings.calendar_token == candidate
        )
    ).first()
    stored = row.calendar_token if row is not None else _NEVER_ISSUED
    same = hmac.compare_digest(stored.encode(), candidate.encode())
    if row is None or not well_formed or not same:
        return None
    user_id: int = row.user_id
    return user_id
