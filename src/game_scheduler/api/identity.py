"""Who is calling, and what they may do: the one FastAPI dependency every front door uses.

Interface (for API routes, the dashboard and anything else served by the API process):

- `CurrentCaller` (`Annotated[Caller, Depends(current_caller)]`): the admin
  (`Authorization: Bearer <API_TOKEN>`) or a signed-in person (the `gs_session` cookie).
  Signed out: 401. A state-changing request (POST, PUT, PATCH, DELETE) from a person must
  carry their CSRF token, as the `X-CSRF-Token` header or a form's `csrf_token` field:
  otherwise 403, before the route runs.
- `OptionalCaller`: the same, but None when signed out (for pages that offer a login).
- `person_from_request(request) -> Caller | None`: the same without FastAPI's machinery
  (no CSRF check), for code that is not a route; it blocks, so call it from a thread.
- `Caller`: `is_admin`, `user_id`, `username`, `csrf_token` (None for the admin);
  `rights_in(guild_id) -> Rights | None` (None: not a member; the admin has every
  right everywhere); `guilds() -> list[GuildAccess]`, each `guild_id`, `name`,
  `can_host`, `can_manage`, for every server the person shares with the bot;
  `member_guild_ids()`. These ask Discord (cached, see discord_directory.py): they block,
  so call them from a plain `def` route or a thread.

Rights are decided by domain/permissions.py from what Discord reports to the bot and the
server's `guild_settings.host_role_ids`; nothing here re-derives them.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from game_scheduler.api.auth import token_matches
from game_scheduler.api.discord_directory import DiscordDirectory
from game_scheduler.api.discord_login import DiscordLogin, LoginFailed
from game_scheduler.api.errors import ApiError
from game_scheduler.api.sessions import (
    COOKIE_NAME,
    GUILDS_STALE_AFTER,
    CookieSigner,
    as_utc,
    find_session,
)
from game_scheduler.clock import Clock
from game_scheduler.db.models import GuildSettings, WebSession
from game_scheduler.domain.permissions import Rights, rights_of, role_permissions

logger = logging.getLogger(__name__)

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EVERY_RIGHT = Rights(can_host=True, can_manage=True)
# An access token this close to its expiry is refreshed before use.
REFRESH_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class GuildAccess:
    """A server the person shares with the bot, and what they may do there."""

    guild_id: int
    name: str
    can_host: bool
    can_manage: bool
    role_ids: frozenset[int] = field(default=frozenset())


class Identity:
    """The wiring behind `Caller`: sessions, Discord lookups and the server settings."""

    def __init__(
        self,
        *,
        api_token: str,
        signer: CookieSigner,
        directory: DiscordDirectory,
        login: DiscordLogin,
        session_factory: sessionmaker[Session],
        clock: Clock,
        secure_cookies: bool,
    ) -> None:
        self.api_token = api_token
        self.signer = signer
        self.directory = directory
        self.login = login
        self.session_factory = session_factory
        self.clock = clock
        self.secure_cookies = secure_cookies

    def rights(self, user_id: int, guild_id: int) -> Rights | None:
        """A person's rights in a server, or None when they are not a member of it."""
        member = self.directory.member(guild_id, user_id)
        facts = self.directory.guild(guild_id) if member is not None else None
        if member is None or facts is None:
            return None
        # Discord's @everyone role has the server's id and applies to every member.
        bits = role_permissions(member, facts.role_permissions, everyone_role_id=guild_id)
        return rights_of(member, bits, self.host_role_ids(guild_id))

    def host_role_ids(self, guild_id: int) -> list[int]:
        """The server's host roles from `guild_settings` (none until a manager sets some)."""
        with self.session_factory() as session:
            found = session.scalars(
                select(GuildSettings.host_role_ids).where(GuildSettings.guild_id == guild_id)
            ).one_or_none()
        return list(found or [])

    def shared_guilds(self, user_id: int, guild_ids: list[int]) -> list[GuildAccess]:
        """The person's servers that the bot is in too, with their rights in each."""
        bot_guilds = self.directory.bot_guild_ids()
        shared: list[GuildAccess] = []
        for guild_id in guild_ids:
            if guild_id not in bot_guilds:
                continue
            rights = self.rights(user_id, guild_id)
            facts = self.directory.guild(guild_id)
            if rights is None or facts is None:
                continue
            shared.append(
                GuildAccess(
                    guild_id, facts.name, rights.can_host, rights.can_manage, rights.role_ids
                )
            )
        return shared

    def person(self, cookie: str | None) -> Caller | None:
        """The signed-in person a session cookie stands for, or None."""
        token = self.signer.session_token(cookie)
        if token is None:
            return None
        now = self.clock.now()
        with self.session_factory.begin() as session:
            row = find_session(session, token, now=now)
            if row is None:
                return None
            stale = row.guilds_refreshed_at is None or (
                now - row.guilds_refreshed_at > GUILDS_STALE_AFTER
            )
            if stale and row.access_token:
                self._refresh_guilds(row, now)
            return Caller(
                identity=self,
                is_admin=False,
                user_id=row.user_id,
                username=row.username,
                csrf_token=row.csrf_token,
                session_guild_ids=tuple(row.guild_ids),
            )

    def _refresh_guilds(self, row: WebSession, now: datetime) -> None:
        try:
            expires = row.access_token_expires_at
            if row.refresh_token and expires is not None and expires - REFRESH_MARGIN <= now:
                tokens = self.login.refresh(row.refresh_token)
                row.access_token, row.refresh_token = tokens.access_token, tokens.refresh_token
                row.access_token_expires_at = as_utc(tokens.expires_at)
            assert row.access_token is not None
            row.guild_ids = list(self.login.guild_ids(row.access_token))
        except LoginFailed as exc:
            # Keep the list we have: membership itself is checked with the bot's token.
            logger.info("could not refresh a person's server list: %s", exc)
        row.guilds_refreshed_at = now


@dataclass
class Caller:
    """The admin or a signed-in person; see the module docstring for the interface."""

    identity: Identity
    is_admin: bool
    user_id: int | None = None
    username: str | None = None
    csrf_token: str | None = None
    session_guild_ids: tuple[int, ...] = ()
    _guilds: list[GuildAccess] | None = field(default=None, repr=False)

    def rights_in(self, guild_id: int) -> Rights | None:
        """What the caller may do in a server; None when they are not a member of it."""
        if self.is_admin:
            return EVERY_RIGHT
        assert self.user_id is not None
        return self.identity.rights(self.user_id, guild_id)

    def guilds(self) -> list[GuildAccess]:
        """The servers the person shares with the bot, with their rights; [] for the admin."""
        if self.is_admin or self.user_id is None:
            return []
        if self._guilds is None:
            self._guilds = self.identity.shared_guilds(self.user_id, list(self.session_guild_ids))
        return self._guilds

    def member_guild_ids(self) -> list[int]:
        """The ids of the servers the person may see."""
        return [g.guild_id for g in self.guilds()]


def get_identity(request: Request) -> Identity:
    """The identity wiring `create_app` stored on the app."""
    identity: Identity = request.app.state.identity
    return identity


def _admin_or_none(request: Request, identity: Identity) -> Caller | None:
    authorization = request.headers.get("authorization")
    if authorization is None:
        return None
    if not token_matches(authorization, identity.api_token):
        raise ApiError(401, "unauthorized", "the bearer token is wrong; use the server's API_TOKEN")
    return Caller(identity=identity, is_admin=True)


def person_from_request(request: Request) -> Caller | None:
    """The caller of a request (admin or person) without the CSRF check; blocks."""
    identity = get_identity(request)
    return _admin_or_none(request, identity) or identity.person(request.cookies.get(COOKIE_NAME))


async def _check_csrf(request: Request, caller: Caller) -> None:
    if caller.is_admin or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = caller.csrf_token or ""
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            403,
            "csrf_failed",
            f"send your CSRF token as the {CSRF_HEADER} header (GET /api/v1/me gives it)",
        )


async def optional_caller(request: Request) -> Caller | None:
    """The admin, a signed-in person (CSRF checked on changes), or None when signed out."""
    identity = get_identity(request)
    admin = _admin_or_none(request, identity)
    if admin is not None:
        return admin
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie is None:
        return None
    caller = await run_in_threadpool(identity.person, cookie)
    if caller is not None:
        await _check_csrf(request, caller)
    return caller


async def current_caller(request: Request) -> Caller:
    """The admin or a signed-in person; 401 when signed out, 403 without the CSRF token."""
    caller = await optional_caller(request)
    if caller is None:
        signed_in = COOKIE_NAME in request.cookies
        message = (
            "your session has ended; log in again at /auth/login"
            if signed_in
            else "log in at /auth/login, or send Authorization: Bearer <API_TOKEN>"
        )
        raise ApiError(401, "unauthorized", message)
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]
