"""Which games each feed holds, read from the database and turned into calendar bytes.

A personal feed holds the games a person hosts or joined, in the servers they are still
a member of (the caller says which: membership is what Discord reports, not ours to
guess). A server's feed holds all its games. Feeds show how many play, never who: a
placeholder's name belongs to its server's message, not to calendars that leave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from game_scheduler.calendar.ics import CalendarEntry, build_calendar
from game_scheduler.calendar.links import discord_message_url, game_ics_url
from game_scheduler.db.models import GameParticipant, GameSession
from game_scheduler.domain.roster import build_roster
from game_scheduler.domain.schedule_plan import DEFAULT_DURATION_MINUTES

# Games that ended longer ago than this drop out of feeds; calendars keep what they saw.
FEED_HISTORY = timedelta(days=90)
FEED_GAMES_MAX = 1000


@dataclass(frozen=True)
class FeedLinks:
    """Where the links inside a feed point."""

    public_url: str
    discord_web_base: str = "https://discord.com"


def players_text(game: GameSession) -> str:
    """ "3/5 (+1 waiting)", or "3" without a seat limit: counts, never names."""
    roster = build_roster(game.participants, game.max_players)
    count = len(roster.confirmed)
    text = f"{count}/{game.max_players}" if game.max_players is not None else str(count)
    if roster.waitlist:
        text += f" (+{len(roster.waitlist)} waiting)"
    return text


def entry_of(game: GameSession, links: FeedLinks) -> CalendarEntry:
    """A loaded game (participants included) as a calendar entry."""
    reminders = [m for m in game.reminder_minutes if m > 0]
    return CalendarEntry(
        game_id=game.id,
        title=game.title,
        status=game.status,
        scheduled_at=game.scheduled_at,
        duration_minutes=game.expected_duration_minutes or DEFAULT_DURATION_MINUTES,
        sequence=game.sequence,
        created_at=game.created_at,
        updated_at=game.updated_at,
        description=game.description,
        where=game.where,
        signup_instructions=game.signup_instructions,
        players=players_text(game),
        message_url=discord_message_url(
            game.guild_id, game.channel_id, game.message_id, links.discord_web_base
        ),
        game_url=game_ics_url(links.public_url, game.id),
        alarm_minutes=max(reminders) if reminders else None,
    )


def _entries(games: Iterable[GameSession], links: FeedLinks) -> list[CalendarEntry]:
    return [entry_of(game, links) for game in games]


def person_games(
    session: Session, user_id: int, member_of: Collection[int], *, now: datetime
) -> list[GameSession]:
    """The games `user_id` hosts or joined, in the servers of `member_of`, recent or ahead."""
    if not member_of:
        return []
    joined = exists().where(
        GameParticipant.game_id == GameSession.id, GameParticipant.user_id == user_id
    )
    query = (
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(
            or_(GameSession.host_id == user_id, joined),
            GameSession.guild_id.in_(list(member_of)),
            GameSession.scheduled_at >= now - FEED_HISTORY,
        )
        .order_by(GameSession.scheduled_at, GameSession.id)
        .limit(FEED_GAMES_MAX)
    )
    return list(session.scalars(query))


def guild_games(session: Session, guild_id: int, *, now: datetime) -> list[GameSession]:
    """Every game of one server, recent or ahead."""
    query = (
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(GameSession.guild_id == guild_id, GameSession.scheduled_at >= now - FEED_HISTORY)
        .order_by(GameSession.scheduled_at, GameSession.id)
        .limit(FEED_GAMES_MAX)
    )
    return list(session.scalars(query))


def guilds_of_person(session: Session, user_id: int) -> set[int]:
    """The servers in which the person hosts or joined a game: whose membership matters."""
    joined = exists().where(
        GameParticipant.game_id == GameSession.id, GameParticipant.user_id == user_id
    )
    query = (
        select(GameSession.guild_id).where(or_(GameSession.host_id == user_id, joined)).distinct()
    )
    return set(session.scalars(query))


def person_feed(
    session: Session, user_id: int, member_of: Collection[int], links: FeedLinks, *, now: datetime
) -> bytes:
    """The person's whole feed as iCalendar bytes."""
    games = person_games(session, user_id, member_of, now=now)
    return build_calendar(_entries(games, links), name="My games (Game Scheduler)")


def guild_feed(
    session: Session, guild_id: int, links: FeedLinks, *, now: datetime, name: str | None = None
) -> bytes:
    """One server's feed as iCalendar bytes."""
    games = guild_games(session, guild_id, now=now)
    return build_calendar(_entries(games, links), name=name or "Server games (Game Scheduler)")


def game_entry(session: Session, game_id: uuid.UUID, links: FeedLinks) -> CalendarEntry | None:
    """One game as a calendar entry; None when there is no such game."""
    game = session.scalars(
        select(GameSession)
        .options(selectinload(GameSession.participants))
        .where(GameSession.id == game_id)
    ).one_or_none()
    return entry_of(game, links) if game is not None else None


def game_calendar(entry: CalendarEntry) -> bytes:
    """A single game as a whole calendar, for "Add to calendar"."""
    return build_calendar([entry], name=entry.title)
