"""The game service keeps games, their schedules and their events consistent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.db.models import (
    EventOutbox,
    GameSession,
    GameStatusSchedule,
    NotificationSchedule,
)
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games import service
from game_scheduler.games.errors import (
    AlreadyJoined,
    GameNotFound,
    GameNotOpen,
    NotJoined,
    TransitionNotAllowed,
)

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
START = NOW + timedelta(hours=3)


def _new_game(**overrides: object) -> service.NewGame:
    fields: dict[str, object] = {
        "guild_id": 111,
        "channel_id": 222,
        "host_id": 333,
        "title": "Raid night",
        "scheduled_at": START,
        "max_players": 2,
        "expected_duration_minutes": 120,
        "reminder_minutes": [60, 15],
    }
    fields.update(overrides)
    return service.NewGame(**fields)  # type: ignore[arg-type]


def _create(sessions: sessionmaker[Session], **overrides: object) -> uuid.UUID:
    with sessions.begin() as s:
        return service.create_game(s, _new_game(**overrides), now=NOW).id


def _reminders(
    sessions: sessionmaker[Session], game_id: uuid.UUID
) -> list[tuple[int, datetime, bool]]:
    with sessions() as s:
        rows = s.scalars(
            select(NotificationSchedule)
            .where(NotificationSchedule.game_id == game_id)
            .order_by(NotificationSchedule.notification_time)
        )
        return [(r.reminder_minutes, r.notification_time, r.sent) for r in rows]


def _transitions(sessions: sessionmaker[Session], game_id: uuid.UUID) -> list[tuple[str, datetime]]:
    with sessions() as s:
        rows = s.scalars(
            select(GameStatusSchedule)
            .where(GameStatusSchedule.game_id == game_id, ~GameStatusSchedule.executed)
            .order_by(GameStatusSchedule.transition_time)
        )
        return [(r.target_status, r.transition_time) for r in rows]


def _events(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as s:
        rows = s.scalars(select(EventOutbox).order_by(EventOutbox.created_at, EventOutbox.id))
        return [(r.event_type, r.payload["game_id"]) for r in rows]


def test_create_plans_reminders_and_transitions_and_announces(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory)
    assert _reminders(session_factory, game_id) == [
        (60, START - timedelta(minutes=60), False),
        (15, START - timedelta(minutes=15), False),
    ]
    assert _transitions(session_factory, game_id) == [
        ("IN_PROGRESS", START),
        ("COMPLETED", START + timedelta(minutes=120)),
    ]
    assert _events(session_factory) == [("game.created", str(game_id))]


def test_a_time_change_replaces_the_schedule_even_a_sent_reminder(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory)
    with session_factory.begin() as s:
        s.execute(
            update(NotificationSchedule)
            .where(
                NotificationSchedule.game_id == game_id, NotificationSchedule.reminder_minutes == 60
            )
            .values(sent=True)
        )
    later = START + timedelta(days=1)
    with session_factory.begin() as s:
        service.update_game(s, game_id, {"scheduled_at": later}, now=NOW)
    # The game moved: the 60 sent for the old time is due again, as a new row for the new time.
    assert _reminders(session_factory, game_id) == [
        (60, later - timedelta(minutes=60), False),
        (15, later - timedelta(minutes=15), False),
    ]
    assert _transitions(session_factory, game_id) == [
        ("IN_PROGRESS", later),
        ("COMPLETED", later + timedelta(minutes=120)),
    ]
    assert [e for e, _ in _events(session_factory)] == ["game.created", "game.updated"]


def test_an_edit_that_does_not_touch_the_time_keeps_the_schedule_rows(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory)
    with session_factory() as s:
        before = set(s.scalars(select(NotificationSchedule.id)))
    with session_factory.begin() as s:
        service.update_game(s, game_id, {"title": "Raid night (bring snacks)"}, now=NOW)
    with session_factory() as s:
        assert set(s.scalars(select(NotificationSchedule.id))) == before
        assert s.get(GameSession, game_id).title == "Raid night (bring snacks)"  # type: ignore[union-attr]


def test_cancel_removes_pending_schedule_and_announces(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory)
    with session_factory.begin() as s:
        game = service.cancel_game(s, game_id, now=NOW)
        assert game.status == "CANCELLED"
    assert _reminders(session_factory, game_id) == []
    assert _transitions(session_factory, game_id) == []
    assert _events(session_factory)[-1] == ("game.cancelled", str(game_id))
    with session_factory.begin() as s, pytest.raises(TransitionNotAllowed):
        service.cancel_game(s, game_id, now=NOW)


def test_waitlist_in_join_order_and_moving_up_on_leave(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory, max_players=2)
    positions = []
    for user in (1001, 1002, 1003, 1004):
        with session_factory.begin() as s:
            positions.append(service.join_game(s, game_id, user, now=NOW).waitlist_position)
    assert positions == [None, None, 1, 2]
    with session_factory.begin() as s:
        service.leave_game(s, game_id, 1001, now=NOW)
    with session_factory() as s:
        roster = service.roster_of(service.get_game(s, game_id))
    assert [p.user_id for p in roster.confirmed] == [1002, 1003]
    assert [p.user_id for p in roster.waitlist] == [1004]


def test_join_rules(session_factory: sessionmaker[Session]) -> None:
    game_id = _create(session_factory)
    with session_factory.begin() as s:
        service.join_game(s, game_id, 1001, now=NOW)
    with session_factory.begin() as s, pytest.raises(AlreadyJoined):
        service.join_game(s, game_id, 1001, now=NOW)
    with session_factory.begin() as s, pytest.raises(NotJoined):
        service.leave_game(s, game_id, 9999, now=NOW)
    with session_factory.begin() as s, pytest.raises(GameNotFound):
        service.join_game(s, uuid.uuid4(), 1001, now=NOW)
    with session_factory.begin() as s:
        service.apply_status_transition(s, game_id, "IN_PROGRESS", now=NOW)
    with session_factory.begin() as s, pytest.raises(GameNotOpen, match="in progress"):
        service.join_game(s, game_id, 1002, now=NOW)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scheduled_at": datetime(2030, 1, 1)}, "scheduled_at"),
        ({"scheduled_at": NOW - timedelta(minutes=1)}, "scheduled_at"),
        ({"reminder_minutes": [15, 15]}, "reminder_minutes"),
        ({"reminder_minutes": [-1]}, "reminder_minutes"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"max_players": 0}, "max_players"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    session_factory: sessionmaker[Session], overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidField) as error, session_factory.begin() as s:
        service.create_game(s, _new_game(**overrides), now=NOW)
    assert error.value.field == field
    with session_factory() as s:
        assert s.scalars(select(GameSession)).all() == []
        assert s.scalars(select(EventOutbox)).all() == []


def test_a_rolled_back_change_leaves_no_event(session_factory: sessionmaker[Session]) -> None:
    game_id = _create(session_factory)
    with session_factory() as s:
        service.join_game(s, game_id, 1001, now=NOW)
        s.rollback()
    assert [e for e, _ in _events(session_factory)] == ["game.created"]
    with session_factory() as s:
        assert service.get_game(s, game_id).participants == []


def test_status_transitions_follow_the_status_machine(
    session_factory: sessionmaker[Session],
) -> None:
    game_id = _create(session_factory)
    with session_factory.begin() as s, pytest.raises(TransitionNotAllowed):
        service.apply_status_transition(s, game_id, "COMPLETED", now=NOW)
    with session_factory.begin() as s:
        service.apply_status_transition(s, game_id, "IN_PROGRESS", now=NOW)
    with session_factory.begin() as s:
        assert (
            service.apply_status_transition(s, game_id, "COMPLETED", now=NOW).status == "COMPLETED"
        )


def test_listing_is_paginated_in_a_stable_order(session_factory: sessionmaker[Session]) -> None:
    ids = [_create(session_factory, scheduled_at=START + timedelta(minutes=i)) for i in range(5)]
    _create(session_factory, guild_id=999)
    seen: list[uuid.UUID] = []
    after = None
    while True:
        with session_factory() as s:
            page = service.list_games(s, guild_id=111, limit=2, after=after)
        seen += [g.id for g in page.games]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == ids
