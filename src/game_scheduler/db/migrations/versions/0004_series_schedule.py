"""Repeating games become games ahead of time: the series schedule and occurrence slots.

`series_schedule` is the fourth table of the generic scheduler daemon (the same NOTIFY
trigger function as the other three); `game_sessions.series_occurrence_at` names the slot
of the series a game fills, unique per series, so an occurrence becomes a game once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series_schedule",
        sa.Column(
            "id", pg.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("series_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("materialize_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_series_schedule"),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["game_series.id"],
            name="fk_series_schedule_series_id",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("series_id", name="uq_series_schedule_series_id"),
    )
    op.create_index(
        "ix_series_schedule_due",
        "series_schedule",
        ["materialize_at"],
        postgresql_where=sa.text("NOT processed"),
    )
    op.execute(
        "CREATE TRIGGER series_schedule_notify AFTER INSERT OR UPDATE ON series_schedule "
        "FOR EACH ROW WHEN (NOT NEW.processed) EXECUTE FUNCTION notify_schedule_changed()"
    )
    op.add_column(
        "game_sessions",
        sa.Column("series_occurrence_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_unique_constraint(
        "uq_game_sessions_series_id", "game_sessions", ["series_id", "series_occurrence_at"]
    )
    op.add_column(
        "game_series",
        sa.Column(
            "skipped_occurrences",
            pg.ARRAY(sa.DateTime(timezone=True)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("game_series", "skipped_occurrences")
    op.drop_constraint("uq_game_sessions_series_id", "game_sessions", type_="unique")
    op.drop_column("game_sessions", "series_occurrence_at")
    op.execute("DROP TRIGGER IF EXISTS series_schedule_notify ON series_schedule")
    op.drop_table("series_schedule")
