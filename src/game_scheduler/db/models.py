"""The tables of DESIGN.md as SQLAlchemy 2.0 typed models.

Discord snowflakes are BIGINT; internal ids are uuids made by the database; every time is
`timestamptz`. Server defaults make a row inserted in plain SQL with only the columns the
checks rely on valid.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

GAME_STATUSES = ("SCHEDULED", "IN_PROGRESS", "COMPLETED", "CANCELLED")

# Named constraints keep Alembic's autogenerate comparison and downgrades deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))


def _flag() -> Mapped[bool]:
    return mapped_column(Boolean, nullable=False, server_default=text("false"))


def _game_fk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("game_sessions.id", ondelete="CASCADE"), nullable=False
    )


class GameSession(Base):
    """A game a host scheduled in a Discord channel."""

    __tablename__ = "game_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')", name="status"
        ),
        Index("ix_game_sessions_guild_id_scheduled_at", "guild_id", "scheduled_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    channel_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    host_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    where: Mapped[str | None] = mapped_column(Text)
    signup_instructions: Mapped[str | None] = mapped_column(Text)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expected_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    max_players: Mapped[int | None] = mapped_column(Integer)
    reminder_minutes: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default=text("'{60,15}'")
    )
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=text("'SCHEDULED'")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    participants: Mapped[list[GameParticipant]] = relationship(
        back_populates="game",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(GameParticipant.joined_at, GameParticipant.id)",
    )


class GameParticipant(Base):
    """A player who joined a game; `user_id` is null for a placeholder added by the host."""

    __tablename__ = "game_participants"
    __table_args__ = (UniqueConstraint("game_id", "user_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    game_id: Mapped[uuid.UUID] = _game_fk()
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(Text)
    # clock_timestamp(), not now(): two joins in one transaction still get a join order.
    joined_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("clock_timestamp()")
    )

    game: Mapped[GameSession] = relationship(back_populates="participants")


class NotificationSchedule(Base):
    """A reminder due at `notification_time`; `sent` once its event is confirmed."""

    __tablename__ = "notification_schedule"
    __table_args__ = (
        UniqueConstraint("game_id", "reminder_minutes"),
        Index(
            "ix_notification_schedule_due",
            "notification_time",
            postgresql_where=text("NOT sent"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    game_id: Mapped[uuid.UUID] = _game_fk()
    reminder_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    notification_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent: Mapped[bool] = _flag()
    created_at: Mapped[datetime] = _created_at()


class GameStatusSchedule(Base):
    """A status change due at `transition_time`; `executed` once its event is confirmed."""

    __tablename__ = "game_status_schedule"
    __table_args__ = (
        UniqueConstraint("game_id", "target_status"),
        CheckConstraint(
            "target_status IN ('SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')",
            name="target_status",
        ),
        Index(
            "ix_game_status_schedule_due",
            "transition_time",
            postgresql_where=text("NOT executed"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    game_id: Mapped[uuid.UUID] = _game_fk()
    target_status: Mapped[str] = mapped_column(String(20), nullable=False)
    transition_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    executed: Mapped[bool] = _flag()
    created_at: Mapped[datetime] = _created_at()


class EventOutbox(Base):
    """An event written with the change it announces, published after commit."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        Index("ix_event_outbox_due", "available_at", postgresql_where=text("NOT published")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    available_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=text("now()")
    )
    published: Mapped[bool] = _flag()
    created_at: Mapped[datetime] = _created_at()


class ProcessedMessage(Base):
    """A message id a consumer has handled, recorded in the handler's own transaction."""

    __tablename__ = "processed_messages"

    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = _created_at()
