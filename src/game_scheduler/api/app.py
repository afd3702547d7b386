"""The REST API's composition root: `create_app` wires it, `serve` runs it under uvicorn.

Nothing happens at import time. `create_app` builds the engine itself unless a session
factory is handed in (tests pass their own database's); an engine it built is disposed
when the app shuts down.
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.auth import BearerAuthMiddleware
from game_scheduler.api.deps import ApiContext
from game_scheduler.api.discord_directory import DiscordDirectory
from game_scheduler.api.discord_login import DiscordLogin
from game_scheduler.api.docs import install_offline_docs
from game_scheduler.api.errors import install_error_handlers
from game_scheduler.api.identity import Identity
from game_scheduler.api.json_depth import JsonDepthMiddleware
from game_scheduler.api.metrics import ApiMetrics, MetricsMiddleware
from game_scheduler.api.posting_check import PostingCheck
from game_scheduler.api.routes import (
    auth,
    calendar,
    games,
    guild_settings,
    health,
    me,
    participants,
    series,
    templates,
)
from game_scheduler.api.sessions import COOKIE_NAME, CookieSigner
from game_scheduler.calendar.membership import DiscordMembership
from game_scheduler.clock import Clock, SystemClock
from game_scheduler.config import Settings
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.web.app import install_dashboard

logger = logging.getLogger(__name__)

API_DESCRIPTION = """\
Schedule Discord game sessions. Every `/api/v1` route needs a caller: the admin's
`Authorization: Bearer <API_TOKEN>`, or a person logged in with Discord at `/auth/login`
(the `gs_session` cookie; changes also send `X-CSRF-Token`, from `GET /api/v1/me`).
Discord ids are decimal strings; times are ISO 8601 with an offset. Errors are
`{"error": {"code": "...", "message": "...", "field": ..., "errors": [...]}}`.
"""


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> FastAPI:
    """Build the API; needs `settings.api_token` (`serve` makes one up when it is unset)."""
    if settings.api_token is None or not settings.api_token.get_secret_value():
        raise ValueError("create_app needs settings.api_token; serve() generates one if unset")
    engine: Engine | None = None
    if session_factory is None:
        # create_engine opens no connection: building the app stays free of I/O.
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)

    secret = settings.session_secret.get_secret_value() if settings.session_secret else ""
    if not secret:
        # `run` keeps one in its state file; a lone `api` without one starts fresh each time.
        logger.warning("SESSION_SECRET is unset: logins last only until the API restarts")
        secret = secrets.token_urlsafe(32)
    signer = CookieSigner(secret)
    the_clock = clock or SystemClock()
    directory = DiscordDirectory(
        settings.discord_api_base,
        settings.discord_bot_token.get_secret_value() if settings.discord_bot_token else None,
    )
    identity = Identity(
        api_token=settings.api_token.get_secret_value(),
        signer=signer,
        directory=directory,
        login=DiscordLogin(settings),
        session_factory=session_factory,
        clock=the_clock,
        secure_cookies=settings.public_url.startswith("https://"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        directory.close()
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        title="Game Scheduler",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load their scripts from a CDN: blank when offline.
        docs_url=None,
        redoc_url=None,
    )
    install_offline_docs(app)
    metrics = ApiMetrics()
    app.state.context = ApiContext(
        settings=settings, clock=the_clock, session_factory=session_factory
    )
    app.state.identity = identity
    app.state.posting_check = PostingCheck(directory)
    # Feeds drop the servers a person left, as the bot's member lookups report them.
    app.state.member_guilds = DiscordMembership(
        lambda guild_id, user_id: directory.member(guild_id, user_id) is not None
    )
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(games.router)
    app.include_router(participants.router)
    app.include_router(calendar.router)
    app.include_router(series.router)
    app.include_router(me.router)
    app.include_router(guild_settings.router)
    app.include_router(templates.router)
    app.include_router(auth.router)
    install_dashboard(app)
    # Inside the auth check: a body is read only for a caller who may send one.
    app.add_middleware(JsonDepthMiddleware)
    # Added last, so outermost: metrics count the 401s the auth middleware answers too.
    app.add_middleware(
        BearerAuthMiddleware,
        token=settings.api_token.get_secret_value(),
        session_cookie_ok=lambda cookie: signer.session_token(cookie) is not None,
        cookie_name=COOKIE_NAME,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Run the API until SIGINT or SIGTERM; returns the process exit code."""
    if settings.api_token is None or not settings.api_token.get_secret_value():
        token = secrets.token_urlsafe(32)
        # Printed once to stdout for the operator, never logged: logs are often shipped.
        print(f"API token: {token}", flush=True)
        settings = settings.model_copy(update={"api_token": SecretStr(token)})
    app = create_app(settings)
    # log_config=None keeps the logging the CLI configured; access logs would double ours.
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    )
    with _stop_signals_end_cleanly():
        server.run()
    return 0 if server.started else 1


def _signal_already_handled(signum: int, frame: FrameType | None) -> None:
    """Swallow the stop signal uvicorn re-raises after its graceful shutdown."""


@contextmanager
def _stop_signals_end_cleanly() -> Iterator[None]:
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal against the
    # handler that was installed before it, which by default kills the process (-15) or
    # raises KeyboardInterrupt. A stop we asked for is a clean exit: 0, no traceback.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _signal_already_handled) for sig in stop_signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
