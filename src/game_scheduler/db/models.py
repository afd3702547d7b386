"""The database tables (games, players, schedules, outbox, ...) as SQLAlchemy 2.0 typed models.

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
        # One game per occurrence of a series, however many consumers try to make it.
        UniqueConstraint("series_id", "series_occurrence_at"),
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
    series_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("game_series.id", ondelete="SET NULL"), index=True
    )
    # The occurrence of the series this game is (UTC); stays put when the game is moved.
    series_occurrence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    discord_event_id: Mapped[int | None] = mapped_column(BigInteger)
    # Why the bot could not post or edit the game's message; null once it can.
    post_error: Mapped[str | None] = mapped_column(Text)
    # The iCalendar SEQUENCE: bumped by every edit and by the cancellation.
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # Check-in (docs/bot.md): minutes before the start; null: no check-in, no release.
    checkin_minutes: Mapped[int | None] = mapped_column(Integer)
    release_minutes: Mapped[int | None] = mapped_column(Integer)
    # Fewer confirmed players than this at check-in time: the host is told.
    min_players: Mapped[int | None] = mapped_column(Integer)
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
        # A game's pending check-in moments, found when it moves or is cancelled.
        Index(
            "ix_event_outbox_pending_checkins",
            text("(payload->>'game_id')"),
            postgresql_where=text(
                "NOT published AND event_type IN ('game.checkin_due', 'game.release_due')"
            ),
        ),
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


def _settings_flag(default: bool) -> Mapped[bool]:
    return mapped_column(
        Boolean, nullable=False, server_default=text("true" if default else "false")
    )


class GuildSettings(Base):
    """A server's defaults and rules: time zone, host roles, what a new game takes."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    timezone: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'UTC'"))
    host_role_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default=text("'{}'")
    )
    default_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    default_reminder_minutes: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    default_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    scheduled_events_enabled: Mapped[bool] = _settings_flag(True)
    # Why the bot could not mirror games as Discord events (e.g. Manage Events missing).
    scheduled_events_error: Mapped[str | None] = mapped_column(Text)
    # When that error was recorded: the bot tries again only after a long pause.
    scheduled_events_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Check-in for new games (off by default): minutes before the start.
    checkin_enabled: Mapped[bool] = _settings_flag(False)
    checkin_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("120")
    )
    release_enabled: Mapped[bool] = _settings_flag(False)
    release_minutes: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("30"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()


class UserSettings(Base):
    """A person's own preferences, across servers."""

    __tablename__ = "user_settings"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Null: the server's time zone.
    timezone: Mapped[str | None] = mapped_column(Text)
    dm_reminders: Mapped[bool] = _settings_flag(True)
    # The secret in the person's calendar feed URL; rotating it ends the old URL.
    calendar_token: Mapped[str | None] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()


class WebSession(Base):
    """A signed-in person; the cookie holds a random token whose SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = _uuid_pk()
    token_sha256: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    username: Mapped[str] = mapped_column(Text, nullable=False)
    csrf_token: Mapped[str] = mapped_column(Text, nullable=False)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The person's servers as Discord last reported them, and when.
    guild_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default=text("'{}'")
    )
    guilds_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GameSeries(Base):
    """A repeating game: an RRULE read in `timezone` from the wall-clock `local_start`."""

    __tablename__ = "game_series"

    id: Mapped[uuid.UUID] = _uuid_pk()
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    channel_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    host_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rrule: Mapped[str] = mapped_column(Text, nullable=False)
    timezone: Mapped[str] = mapped_column(Text, nullable=False)
    # Naive on purpose: 20:00 is 20:00 in `timezone` whatever its UTC offset that night.
    local_start: Mapped[datetime] = mapped_column(DateTime(timezone=False), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    where: Mapped[str | None] = mapped_column(Text)
    signup_instructions: Mapped[str | None] = mapped_column(Text)
    expected_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    max_players: Mapped[int | None] = mapped_column(Integer)
    reminder_minutes: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default=text("'{60,15}'")
    )
    carry_over_players: Mapped[bool] = _settings_flag(False)
    active: Mapped[bool] = _settings_flag(True)
    # Occurrences (UTC) skipped before they became games; they are never made.
    skipped_occurrences: Mapped[list[datetime]] = mapped_column(
        ARRAY(DateTime(timezone=True)), nullable=False, server_default=text("'{}'")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()


class SeriesSchedule(Base):
    """When a series next needs games made (`materialize_at`); `processed` once announced.

    The fourth table of the generic scheduler daemon: one row per active series, replaced
    each time its occurrences are made.
    """

    __tablename__ = "series_schedule"
    __table_args__ = (
        UniqueConstraint("series_id"),
        Index("ix_series_schedule_due", "materialize_at", postgresql_where=text("NOT processed")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    series_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("game_series.id", ondelete="CASCADE"), nullable=False
    )
    materialize_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    processed: Mapped[bool] = _flag()
    created_at: Mapped[datetime] = _created_at()


class GameTemplate(Base):
    """A server's named preset that a new game or series starts from.

    Every game field may be left empty (the form or command asks for it, or the server's
    default applies). `allowed_role_ids` empty: any host may use it; otherwise managers
    and hosts with one of those roles.
    """

    __tablename__ = "game_templates"
    __table_args__ = (UniqueConstraint("guild_id", "name"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    guild_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    where: Mapped[str | None] = mapped_column(Text)
    max_players: Mapped[int | None] = mapped_column(Integer)
    expected_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # None: the server's default reminders; [] : none.
    reminder_minutes: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    allowed_role_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default=text("'{}'")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()


class GameCheckin(Base):
    """A confirmed player asked to check in for the game at `scheduled_for`, and the answer.

    Keyed by the start time asked about: once the game moves, old answers no longer count.
    """

    __tablename__ = "game_checkins"
    __table_args__ = (
        CheckConstraint("answer IS NULL OR answer IN ('coming', 'not_coming')", name="answer"),
    )

    game_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("game_sessions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    answer: Mapped[str | None] = mapped_column(String(20))
    asked_at: Mapped[datetime] = _created_at()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
