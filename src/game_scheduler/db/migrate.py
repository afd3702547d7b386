"""`game-scheduler migrate`: create the database if missing, then upgrade to head."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from game_scheduler.config import to_libpq_url, to_sqlalchemy_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK_KEY = 7_240_113_598


def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL if it does not exist; True if it was created."""
    url = make_url(to_sqlalchemy_url(database_url))
    name = url.database
    if not name:
        raise ValueError("DATABASE_URL names no database")
    admin_url = to_libpq_url(
        url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # another process created it between our check and our create
        log.info("created database", extra={"database": name})
        return True


def alembic_config() -> Config:
    """Alembic's configuration pointing at our packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run_locked(database_url: str, step: Callable[[Config], None]) -> None:
    """Run an Alembic command on one connection, serialised by an advisory lock."""
    engine = create_engine(to_sqlalchemy_url(database_url))
    try:
        with engine.begin() as conn:
            # Two processes migrating at once take turns; the second finds nothing to do.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config = alembic_config()
            config.attributes["connection"] = conn
            step(config)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`."""
    _run_locked(database_url, lambda config: command.upgrade(config, revision))


def downgrade(database_url: str, revision: str) -> None:
    """Step the schema back to `revision` (tests and emergencies)."""
    _run_locked(database_url, lambda config: command.downgrade(config, revision))


def migrate(database_url: str) -> None:
    """Create the database if needed and upgrade it to head; safe to repeat."""
    ensure_database(database_url)
    upgrade(database_url)
    log.info("database at head")
