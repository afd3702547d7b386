"""Check-in before a game: its settings per game and per server, and the players' answers.

The check-in and release moments are rows of `event_outbox` with a future `available_at`
(the outbox instance of the generic daemon fires them then); the partial index finds a
game's pending ones when it moves or is cancelled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHECKIN_EVENT_TYPES = "('game.checkin_due', 'game.release_due')"


def upgrade() -> None:
    for name in ("checkin_minutes", "release_minutes", "min_players"):
        op.add_column("game_sessions", sa.Column(name, sa.Integer(), nullable=True))
    guild_columns: dict[str, tuple[sa.types.TypeEngine[Any], str]] = {
        "checkin_enabled": (sa.Boolean(), "false"),
        "checkin_minutes": (sa.Integer(), "120"),
        "release_enabled": (sa.Boolean(), "false"),
        "release_minutes": (sa.Integer(), "30"),
    }
    for name, (kind, default) in guild_columns.items():
        column: sa.Column[Any] = sa.Column(
            name, kind, server_default=sa.text(default), nullable=False
        )
        op.add_column("guild_settings", column)
    op.create_table(
        "game_checkins",
        sa.Column("game_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(20), nullable=True),
        sa.Column(
            "asked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("game_id", "user_id", "scheduled_for", name="pk_game_checkins"),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game_sessions.id"], name="fk_game_checkins_game_id", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "answer IS NULL OR answer IN ('coming', 'not_coming')", name="ck_game_checkins_answer"
        ),
    )
    op.execute(
        "CREATE INDEX ix_event_outbox_pending_checkins ON event_outbox ((payload->>'game_id'))"
        f" WHERE NOT published AND event_type IN {CHECKIN_EVENT_TYPES}"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_event_outbox_pending_checkins")
    op.drop_table("game_checkins")
    for name in ("release_minutes", "release_enabled", "checkin_minutes", "checkin_enabled"):
        op.drop_column("guild_settings", name)
    for name in ("min_players", "release_minutes", "checkin_minutes"):
        op.drop_column("game_sessions", name)
