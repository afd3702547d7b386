"""People and servers: settings, web sessions, repeating series, and the game's Discord links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, default: str | None = "now()", nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text(default) if default else None,
        nullable=nullable,
    )


def _bool(name: str, default: bool) -> sa.Column[object]:
    return sa.Column(
        name, sa.Boolean(), server_default=sa.text("true" if default else "false"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default=sa.text("'UTC'"), nullable=False),
        sa.Column(
            "host_role_ids",
            pg.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("default_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("default_reminder_minutes", pg.ARRAY(sa.Integer()), nullable=True),
        sa.Column("default_duration_minutes", sa.Integer(), nullable=True),
        _bool("scheduled_events_enabled", True),
        # Why the bot could not mirror games as Discord events (e.g. Manage Events missing).
        sa.Column("scheduled_events_error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("guild_id", name="pk_guild_settings"),
    )

    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=True),
        _bool("dm_reminders", True),
        sa.Column("calendar_token", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_settings"),
        sa.UniqueConstraint("calendar_token", name="uq_user_settings_calendar_token"),
    )

    # A signed-in person. The cookie carries a random token; only its SHA-256 is stored, so a
    # copy of the database cannot be replayed as a login.
    op.create_table(
        "web_sessions",
        sa.Column(
            "id", pg.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("token_sha256", sa.Text(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        _ts("access_token_expires_at", default=None, nullable=True),
        # The person's guild ids as Discord last reported them, and when.
        sa.Column(
            "guild_ids", pg.ARRAY(sa.BigInteger()), server_default=sa.text("'{}'"), nullable=False
        ),
        _ts("guilds_refreshed_at", default=None, nullable=True),
        _ts("created_at"),
        _ts("expires_at", default=None),
        _ts("ended_at", default=None, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("token_sha256", name="uq_web_sessions_token_sha256"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])

    op.create_table(
        "game_series",
        sa.Column(
            "id", pg.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("host_id", sa.BigInteger(), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("local_start", sa.DateTime(timezone=False), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("where", sa.Text(), nullable=True),
        sa.Column("signup_instructions", sa.Text(), nullable=True),
        sa.Column("expected_duration_minutes", sa.Integer(), nullable=True),
        sa.Column("max_players", sa.Integer(), nullable=True),
        sa.Column(
            "reminder_minutes",
            pg.ARRAY(sa.Integer()),
            server_default=sa.text("'{60,15}'"),
            nullable=False,
        ),
        _bool("carry_over_players", False),
        _bool("active", True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_game_series"),
    )
    op.create_index("ix_game_series_guild_id", "game_series", ["guild_id"])

    op.add_column("game_sessions", sa.Column("series_id", pg.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(
        "fk_game_sessions_series_id",
        "game_sessions",
        "game_series",
        ["series_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_game_sessions_series_id", "game_sessions", ["series_id"])
    op.add_column("game_sessions", sa.Column("discord_event_id", sa.BigInteger(), nullable=True))
    # Why the bot could not post or edit the game's message, null once it can.
    op.add_column("game_sessions", sa.Column("post_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("game_sessions", "post_error")
    op.drop_column("game_sessions", "discord_event_id")
    op.drop_index("ix_game_sessions_series_id", table_name="game_sessions")
    op.drop_constraint("fk_game_sessions_series_id", "game_sessions", type_="foreignkey")
    op.drop_column("game_sessions", "series_id")
    for table in ("game_series", "web_sessions", "user_settings", "guild_settings"):
        op.drop_table(table)
