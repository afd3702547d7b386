"""A host runs the roster: placeholders, removing a player, moving someone up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import EventOutbox
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games import service
from game_scheduler.games.errors import GameNotOpen, NotOnRoster, ParticipantNotFound

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def _game(sessions: sessionmaker[Session], players: list[int], seats: int = 2) -> uuid.UUID:
    with sessions.begin() as s:
        game = service.create_game(
            s,
            service.NewGame(
                guild_id=111,
                channel_id=222,
                host_id=333,
                title="Board games",
                scheduled_at=NOW + timedelta(hours=2),
                max_players=seats,
            ),
            now=NOW,
        )
        game_id = game.id
    for user in players:
        with sessions.begin() as s:
            service.join_game(s, game_id, user, now=NOW)
    return game_id


def _names(sessions: sessionmaker[Session], game_id: uuid.UUID) -> tuple[list[str], list[str]]:
    with sessions() as s:
        roster = service.roster_of(service.get_game(s, game_id))

    def name(p: object) -> str:
        return str(getattr(p, "user_id", None) or getattr(p, "display_name", ""))

    return [name(p) for p in roster.confirmed], [name(p) for p in roster.waitlist]


def _updates(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        query = select(func.count()).where(EventOutbox.event_type == "game.updated")
        return int(s.scalar(query) or 0)


def test_a_placeholder_takes_a_seat_in_join_order(session_factory: sessionmaker[Session]) -> None:
    game_id = _game(session_factory, [1001])
    with session_factory.begin() as s:
        result = service.add_placeholder(s, game_id, "  Grandma  ", now=NOW)
    assert result.waitlist_position is None
    with session_factory.begin() as s:
        assert service.add_placeholder(s, game_id, "Uncle", now=NOW).waitlist_position == 1
    assert _names(session_factory, game_id) == (["1001", "Grandma"], ["Uncle"])
    with session_factory.begin() as s, pytest.raises(InvalidField):
        service.add_placeholder(s, game_id, "   ", now=NOW)


def test_removing_a_player_moves_the_waitlist_up(session_factory: sessionmaker[Session]) -> None:
    game_id = _game(session_factory, [1001, 1002, 1003])
    before = _updates(session_factory)
    with session_factory() as s:
        first = service.get_game(s, game_id).participants[0].id
    with session_factory.begin() as s:
        service.remove_participant(s, game_id, first, now=NOW)
    assert _names(session_factory, game_id) == (["1002", "1003"], [])
    assert _updates(session_factory) == before + 1  # the Discord message follows
    with session_factory.begin() as s, pytest.raises(ParticipantNotFound):
        service.remove_participant(s, game_id, first, now=NOW)


def test_moving_up_trades_places_and_can_give_a_seat(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _game(session_factory, [1001, 1002, 1003])
    with session_factory() as s:
        ids = [p.id for p in service.get_game(s, game_id).participants]
    with session_factory.begin() as s:
        service.move_up(s, game_id, ids[2], now=NOW)
    assert _names(session_factory, game_id) == (["1001", "1003"], ["1002"])
    with session_factory.begin() as s:
        service.move_up(s, game_id, ids[2], now=NOW)
    assert _names(session_factory, game_id) == (["1003", "1001"], ["1002"])
    with session_factory.begin() as s, pytest.raises(NotOnRoster):
        service.move_up(s, game_id, ids[2], now=NOW)


def test_a_cancelled_game_roster_is_final(session_factory: sessionmaker[Session]) -> None:
    game_id = _game(session_factory, [1001])
    with session_factory.begin() as s:
        service.cancel_game(s, game_id, now=NOW)
    with session_factory.begin() as s, pytest.raises(GameNotOpen):
        service.add_placeholder(s, game_id, "Late", now=NOW)


def test_my_games_and_a_servers_lists(session_factory: sessionmaker[Session]) -> None:
    hosting = _game(session_factory, [])
    joined = _game(session_factory, [444])
    _game(session_factory, [555])
    with session_factory.begin() as s:
        finished = service.cancel_game(s, _game(session_factory, [444]), now=NOW).id
    with session_factory() as s:
        mine = service.games_of_user(s, 444, [111])
        assert [g.id for g in mine] == [joined]
        # Every game here has the same start, so their order among themselves is the ids'.
        assert hosting in [g.id for g in service.games_of_user(s, 333, [111])]
        assert service.games_of_user(s, 444, [999]) == []
        upcoming = service.games_of_guild(s, 111, upcoming=True)
        assert finished not in [g.id for g in upcoming]
        assert len(upcoming) == 3
        assert [g.id for g in service.games_of_guild(s, 111, upcoming=False)] == [finished]
        assert service.games_of_guild(s, 111, upcoming=True, search="board%") == []
        assert len(service.games_of_guild(s, 111, upcoming=True, search="BOARD")) == 3
