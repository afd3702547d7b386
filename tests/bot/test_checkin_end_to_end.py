"""The whole path of a check-in: an outbox row due later, the outbox daemon firing it on
time, the real bot DMing the buttons, a press freeing the seat and the promotion DM."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from game_scheduler.games import service
from tests.bot.conftest import HOST_ID, buttons, create_game, dms_of, game_row
from tests.bot.test_bot_end_to_end import Harness, eventually, harness  # noqa: F401
from tests.fixtures.sandbox import connected_client

pytestmark = pytest.mark.integration


async def test_a_check_in_fires_on_time_and_cant_make_it_promotes_the_next_player(
    harness: Harness,  # noqa: F811  # the fixture imported above
) -> None:
    system = harness
    # Check-in 120 minutes before a start 120 minutes and 2 seconds away: due in 2 s.
    game_id: uuid.UUID = create_game(
        system.sessions,
        now=datetime.now(UTC),
        starts_in=timedelta(minutes=120, seconds=2),
        players=[60, 61, 62, 63],
        max_players=2,
        checkin_minutes=120,
    )
    # A leave among the joins: the bot gets them in one batch, and still tells 62.
    with system.sessions.begin() as session:
        service.leave_game(session, game_id, 60, now=datetime.now(UTC))
    with system.outbox_daemon():
        async with connected_client(system.sandbox, system.bot()):

            async def asked() -> dict[str, Any] | None:
                dms = [m for m in dms_of(await system.sandbox.state(), 61) if m["components"]]
                return dms[0] if dms else None

            dm = await eventually(asked)
            cant = next(b["custom_id"] for b in buttons(dm) if b["label"] == "Can't make it")
            answer = await system.sandbox.click(dm["id"], cant, 61)
            assert answer["response"]["content"].startswith("Thanks for telling us")

            async def promoted(user_id: int) -> bool:
                state = await system.sandbox.state()
                return any("now playing" in m["content"] for m in dms_of(state, user_id))

            await eventually(lambda: promoted(63))
    state = await system.sandbox.state()
    assert len([m for m in dms_of(state, 62) if m["components"]]) == 1  # promoted by the leave
    assert len([m for m in dms_of(state, 62) if "now playing" in m["content"]]) == 1
    assert not any(m["components"] for m in dms_of(state, HOST_ID))
    assert [p.user_id for p in game_row(system.sessions, game_id).participants] == [62, 63]
