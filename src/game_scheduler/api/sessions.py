"""Server-side login sessions: the `gs_session` cookie and the `web_sessions` table.

The cookie holds a random token signed with `SESSION_SECRET` (itsdangerous); the table
stores only the token's SHA-256, so a leaked database cannot be replayed as cookies and
a forged or tampered cookie fails the signature before any lookup. Logging out or
expiry sets `ended_at`/passes `expires_at`, and the session is over for good.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from game_scheduler.db.models import WebSession

COOKIE_NAME = "gs_session"
LOGIN_COOKIE_NAME = "gs_login"  # the state and PKCE verifier between login and callback
SESSION_LIFETIME = timedelta(days=7)
LOGIN_LIFETIME = timedelta(minutes=10)
# A person's list of servers is asked of Discord again when older than this.
GUILDS_STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the login cookie carries from /auth/login to /auth/callback."""

    state: str
    code_verifier: str


class CookieSigner:
    """Signs and checks the session and login cookies with `SESSION_SECRET`."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("SESSION_SECRET must be at least 16 characters")
        self._session = URLSafeTimedSerializer(secret, salt="gs_session")
        self._login = URLSafeTimedSerializer(secret, salt="gs_login")

    def session_cookie(self, token: str) -> str:
        """The cookie value for a session token."""
        return self._session.dumps(token)

    def session_token(self, cookie: str | None) -> str | None:
        """The session token in a cookie, or None when it is missing, forged or too old."""
        if not cookie:
            return None
        try:
            token = self._session.loads(cookie, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:  # SignatureExpired is one too
            return None
        return token if isinstance(token, str) else None

    def login_cookie(self, pending: PendingLogin) -> str:
        """The cookie value carrying a login's state and verifier to the callback."""
        return self._login.dumps([pending.state, pending.code_verifier])

    def pending_login(self, cookie: str | None) -> PendingLogin | None:
        """The login a callback belongs to, or None when missing, forged or expired."""
        if not cookie:
            return None
        try:
            value = self._login.loads(cookie, max_age=int(LOGIN_LIFETIME.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(value, list) or len(value) != 2:
            return None
        if not all(isinstance(v, str) for v in value):
            return None
        return PendingLogin(state=value[0], code_verifier=value[1])


def token_digest(token: str) -> str:
    """The SHA-256 of a session token, as `web_sessions.token_sha256` stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    *,
    user_id: int,
    username: str,
    guild_ids: list[int],
    access_token: str | None,
    refresh_token: str | None,
    access_token_expires_at: datetime | None,
    now: datetime,
) -> tuple[str, WebSession]:
    """Open a session for a person who logged in; returns the new token and the row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_sha256=token_digest(token),
        user_id=user_id,
        username=username,
        csrf_token=secrets.token_urlsafe(32),
        access_token=access_token,
        refresh_token=refresh_token,
        access_token_expires_at=access_token_expires_at,
        guild_ids=guild_ids,
        guilds_refreshed_at=now,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return token, row


def find_session(session: Session, token: str, *, now: datetime) -> WebSession | None:
    """The live session a token opens, or None when unknown, logged out or expired."""
    row = session.scalars(
        select(WebSession).where(WebSession.token_sha256 == token_digest(token))
    ).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def end_session(session: Session, token: str, *, now: datetime) -> None:
    """Log a session out: its cookie opens nothing from now on."""
    session.execute(
        update(WebSession)
        .where(WebSession.token_sha256 == token_digest(token), WebSession.ended_at.is_(None))
        .values(ended_at=now, access_token=None, refresh_token=None)
    )


def as_utc(moment: float) -> datetime:
    """A Unix time as an aware UTC datetime."""
    return datetime.fromtimestamp(moment, tz=UTC)
