"""Engines and sessions, built from a URL by the composition roots, never at import."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.config import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    """An engine on psycopg 3 that checks connections before use, so a restart heals."""
    return create_engine(
        to_sqlalchemy_url(database_url),
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
