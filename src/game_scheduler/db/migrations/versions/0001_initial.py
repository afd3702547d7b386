"""The initial schema: games, participants, the three scheduled tables and their triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUS_CHECK = "IN ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')"

# The scheduled tables and the flag that marks a row processed. An unprocessed row that is
# inserted or updated wakes the daemon LISTENing on '<table>_changed'. The payload is empty
# on purpose: PostgreSQL folds identical notifications of one transaction into one, so a
# bulk insert wakes the daemon once.
NOTIFYING_TABLES = {
    "notification_schedule": "sent",
    "game_status_schedule": "executed",
    "event_outbox": "published",
}

NOTIFY_FUNCTION = """
CREATE FUNCTION notify_schedule_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_NAME || '_changed', '');
    RETURN NULL;
END;
$$
"""


def _uuid_pk() -> sa.Column[object]:
    return sa.Column(
        "id", pg.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False
    )


def _ts(name: str, default: str | None = "now()", nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text(default) if default else None,
        nullable=nullable,
    )


def _flag(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Boolean(), server_default=sa.text("false"), nullable=False)


def _game_fk(table: str) -> list[Any]:
    return [
        sa.Column("game_id", pg.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["game_sessions.id"], name=f"fk_{table}_game_id", ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "game_sessions",
        _uuid_pk(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("host_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("where", sa.Text(), nullable=True),
        sa.Column("signup_instructions", sa.Text(), nullable=True),
        _ts("scheduled_at", default=None),
        sa.Column("expected_duration_minutes", sa.Integer(), nullable=True),
        sa.Column("max_players", sa.Integer(), nullable=True),
        sa.Column(
            "reminder_minutes",
            pg.ARRAY(sa.Integer()),
            server_default=sa.text("'{60,15}'"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), server_default=sa.text("'SCHEDULED'"), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_game_sessions"),
        sa.CheckConstraint(f"status {STATUS_CHECK}", name="ck_game_sessions_status"),
    )
    op.create_index(
        "ix_game_sessions_guild_id_scheduled_at",
        "game_sessions",
        ["guild_id", "scheduled_at", "id"],
    )

    op.create_table(
        "game_participants",
        _uuid_pk(),
        *_game_fk("game_participants"),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        _ts("joined_at", default="clock_timestamp()"),
        sa.PrimaryKeyConstraint("id", name="pk_game_participants"),
        sa.UniqueConstraint("game_id", "user_id", name="uq_game_participants_game_id"),
    )

    op.create_table(
        "notification_schedule",
        _uuid_pk(),
        *_game_fk("notification_schedule"),
        sa.Column("reminder_minutes", sa.Integer(), nullable=False),
        _ts("notification_time", default=None),
        _flag("sent"),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_notification_schedule"),
        sa.UniqueConstraint("game_id", "reminder_minutes", name="uq_notification_schedule_game_id"),
    )
    op.create_index(
        "ix_notification_schedule_due",
        "notification_schedule",
        ["notification_time"],
        postgresql_where=sa.text("NOT sent"),
    )

    op.create_table(
        "game_status_schedule",
        _uuid_pk(),
        *_game_fk("game_status_schedule"),
        sa.Column("target_status", sa.String(20), nullable=False),
        _ts("transition_time", default=None),
        _flag("executed"),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_game_status_schedule"),
        sa.UniqueConstraint("game_id", "target_status", name="uq_game_status_schedule_game_id"),
        sa.CheckConstraint(
            f"target_status {STATUS_CHECK}", name="ck_game_status_schedule_target_status"
        ),
    )
    op.create_index(
        "ix_game_status_schedule_due",
        "game_status_schedule",
        ["transition_time"],
        postgresql_where=sa.text("NOT executed"),
    )

    op.create_table(
        "event_outbox",
        _uuid_pk(),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", pg.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        _ts("available_at"),
        _flag("published"),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_event_outbox"),
    )
    op.create_index(
        "ix_event_outbox_due",
        "event_outbox",
        ["available_at"],
        postgresql_where=sa.text("NOT published"),
    )

    op.create_table(
        "processed_messages",
        sa.Column("message_id", sa.String(200), nullable=False),
        _ts("processed_at"),
        sa.PrimaryKeyConstraint("message_id", name="pk_processed_messages"),
    )

    op.execute(NOTIFY_FUNCTION)
    for table, flag in NOTIFYING_TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW WHEN (NOT NEW.{flag}) EXECUTE FUNCTION notify_schedule_changed()"
        )


def downgrade() -> None:
    for table in NOTIFYING_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS notify_schedule_changed()")
    for table in (
        "processed_messages",
        "event_outbox",
        "game_status_schedule",
        "notification_schedule",
        "game_participants",
        "game_sessions",
    ):
        op.drop_table(table)
