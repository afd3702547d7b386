"""`/game list | mine | edit | cancel` and autocomplete, with the rule book's rights."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from game_scheduler.domain.status import GameStatus
from game_scheduler.games import service
from game_scheduler.games.service import NewGame
from tests.bot.commands.conftest import Server, World, fresh_id, seen

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]


def make_game(world: World, server: Server, title: str, host_id: int, **fields: Any) -> uuid.UUID:
    """A game in the server, a day ahead, straight through the service."""
    now = datetime.now(UTC)
    with world.sessions.begin() as session:
        game = service.create_game(
            session,
            NewGame(
                guild_id=fields.pop("guild_id", server.guild_id),
                channel_id=server.channel_id,
                host_id=host_id,
                title=title,
                scheduled_at=fields.pop("scheduled_at", now + timedelta(days=1)),
                max_players=fields.pop("max_players", 4),
                **fields,
            ),
            now=now,
        )
        return game.id


def status_of(world: World, game_id: uuid.UUID) -> str:
    with world.sessions.begin() as session:
        return service.get_game(session, game_id).status


async def run(
    world: World, server: Server, subcommand: str, user: int, **options: Any
) -> dict[str, Any]:
    return await world.command(
        subcommand, user_id=user, channel_id=server.channel_id, guild_id=server.guild_id, **options
    )


async def test_a_host_role_member_creates_in_the_servers_zone(world: World, server: Server) -> None:
    answer = await run(
        world, server, "create", server.host_id, title="Role host", when="tomorrow 19:30"
    )
    [game] = world.games(title="Role host")
    local = game.scheduled_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (19, 30)
    assert "in America/New_York" in seen(answer)


async def test_a_plain_member_may_not_host(world: World, server: Server) -> None:
    before = world.game_count()
    answer = await run(
        world, server, "create", server.plain_id, title="Nope", when="tomorrow 19:30"
    )
    assert "You may not host games in this server" in seen(answer)
    assert world.game_count() == before


async def test_list_and_mine(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Listed game", server.host_id)
    with world.sessions.begin() as session:
        service.join_game(session, game_id, server.plain_id, now=datetime.now(UTC))
    listed = seen(await run(world, server, "list", server.plain_id))
    assert "**Listed game**" in listed
    assert "1/4 players" in listed
    mine = seen(await run(world, server, "mine", server.plain_id))
    assert "**Listed game**" in mine
    assert "(you joined)" in mine
    hosted = seen(await run(world, server, "mine", server.host_id))
    assert "(you host)" in hosted
    nothing = seen(await run(world, server, "mine", server.owner_id))
    assert "You host or joined no upcoming games here" in nothing


async def test_autocomplete_offers_only_games_the_person_may_change(
    world: World, server: Server
) -> None:
    mine = make_game(world, server, "Auto mine", server.host_id)
    theirs = make_game(world, server, "Auto theirs", server.manager_id)
    choices = await world.sandbox.autocomplete(
        "game",
        "edit",
        focused="game",
        user_id=server.host_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        game="auto",
    )
    assert [c["value"] for c in choices] == [str(mine)]
    assert choices[0]["name"].startswith("Auto mine · ")
    managed = await world.sandbox.autocomplete(
        "game",
        "cancel",
        focused="game",
        user_id=server.manager_id,
        channel_id=server.channel_id,
        guild_id=server.guild_id,
        game="auto",
    )
    assert {c["value"] for c in managed} == {str(mine), str(theirs)}


def modal_fields(opened: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The modal's inputs by label."""
    fields = {}
    for row in opened["modal"]["components"]:
        item = row.get("component") or row["components"][0]
        fields[item["label"]] = item
    return fields


DETAILS = "Seats, duration, reminders"


async def edit_through_the_modal(
    world: World, server: Server, game_id: uuid.UUID, typed: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], str]:
    """Open the edit modal, type into inputs by label; the inputs as opened and the answer."""
    opened = await run(world, server, "edit", server.host_id, game=str(game_id))
    fields = modal_fields(opened)
    result = await world.sandbox.submit_modal(
        opened["interaction_id"],
        opened["modal"]["custom_id"],
        server.host_id,
        {fields[label]["custom_id"]: value for label, value in typed.items()},
    )
    return fields, seen(result["response"])


async def test_edit_opens_the_current_values_and_saves_changes(
    world: World, server: Server
) -> None:
    game_id = make_game(world, server, "Editable", server.host_id, where="Den")
    opened = await run(world, server, "edit", server.host_id, game=str(game_id))
    assert opened["type"] == 9
    modal = opened["modal"]
    assert modal["title"] == "Edit Editable"
    fields = modal_fields(opened)
    assert fields["Title"]["value"] == "Editable"
    assert fields[DETAILS]["value"] == "seats: 4\nduration:\nreminders: 1h, 15m"
    assert fields["Where"]["value"] == "Den"
    assert fields["Description"].get("value", "") == ""
    result = await world.sandbox.submit_modal(
        opened["interaction_id"],
        modal["custom_id"],
        server.host_id,
        {
            fields[DETAILS]["custom_id"]: "seats: 6",
            fields["When (in your time zone)"]["custom_id"]: "2027-06-01 18:00",
        },
    )
    text = seen(result["response"])
    assert "Updated **Editable**" in text
    [game] = world.games(id=game_id)
    assert game.max_players == 6
    assert game.scheduled_at == datetime(2027, 6, 1, 22, 0, tzinfo=UTC)  # 18:00 in New York
    assert game.where == "Den"
    assert game.reminder_minutes == [60, 15]  # a line left out keeps its value


async def test_edit_changes_the_description_and_reminders(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Wordy", server.host_id, description="Old words")
    fields, answer = await edit_through_the_modal(
        world,
        server,
        game_id,
        {"Description": "New words", DETAILS: "seats: 4\nduration: 2h\nreminders: 1d, 30m"},
    )
    assert fields["Description"]["value"] == "Old words"
    assert "reminders 1d and 30m before" in answer
    [game] = world.games(id=game_id)
    assert (game.description, game.reminder_minutes) == ("New words", [1440, 30])
    assert game.expected_duration_minutes == 120


async def test_an_edit_with_a_line_i_do_not_know_changes_nothing(
    world: World, server: Server
) -> None:
    game_id = make_game(world, server, "Odd line", server.host_id)
    _, answer = await edit_through_the_modal(
        world, server, game_id, {"Title": "Renamed", DETAILS: "players: 6"}
    )
    assert "`players: 6` as none of `seats:`" in answer
    [game] = world.games(id=game_id)
    assert (game.title, game.updated_at) == ("Odd line", game.created_at)


async def test_an_edit_with_a_bad_time_changes_nothing(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Edit badly", server.host_id)
    opened = await run(world, server, "edit", server.host_id, game=str(game_id))
    when = next(
        (row.get("component") or row["components"][0])
        for row in opened["modal"]["components"]
        if (row.get("component") or row["components"][0])["label"].startswith("When")
    )
    result = await world.sandbox.submit_modal(
        opened["interaction_id"],
        opened["modal"]["custom_id"],
        server.host_id,
        {when["custom_id"]: "someday"},
    )
    assert "no time I know" in seen(result["response"])
    assert "Nothing was changed" in seen(result["response"])
    [game] = world.games(id=game_id)
    assert game.updated_at == game.created_at


async def test_cancel_asks_first_and_the_button_cancels(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Cancel me", server.host_id)
    asked = await run(world, server, "cancel", server.host_id, game=str(game_id))
    question = asked["followups"][-1]
    assert "Cancel **Cancel me**" in question["content"]
    assert status_of(world, game_id) == GameStatus.SCHEDULED.value
    confirm = next(
        b
        for row in question["components"]
        for b in row["components"]
        if b["label"] == "Cancel the game"
    )
    pressed = await world.sandbox.click(question["id"], confirm["custom_id"], server.host_id)
    assert pressed["answered"]
    assert status_of(world, game_id) == GameStatus.CANCELLED.value
    state = await world.sandbox.state()
    record = state["interactions"][pressed["interaction_id"]]
    assert record["type"] == 6


async def test_keep_it_changes_nothing(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Keep me", server.host_id)
    asked = await run(world, server, "cancel", server.manager_id, game=str(game_id))
    question = asked["followups"][-1]
    keep = next(
        b for row in question["components"] for b in row["components"] if b["label"] == "Keep it"
    )
    pressed = await world.sandbox.click(question["id"], keep["custom_id"], server.manager_id)
    assert pressed["response"]["content"] == "Kept: nothing was changed."
    assert status_of(world, game_id) == GameStatus.SCHEDULED.value


async def test_a_cancelled_game_cannot_be_cancelled_again(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Gone already", server.host_id)
    with world.sessions.begin() as session:
        service.cancel_game(session, game_id, now=datetime.now(UTC))
    answer = await run(world, server, "cancel", server.host_id, game=str(game_id))
    assert "**Gone already** is cancelled" in seen(answer)


async def test_cancelling_someone_elses_game_is_refused(world: World, server: Server) -> None:
    game_id = make_game(world, server, "Not yours", server.manager_id)
    answer = await run(world, server, "cancel", server.host_id, game=str(game_id))
    assert "You may not cancel **Not yours**" in seen(answer)
    assert "components" not in answer["followups"][-1] or not answer["followups"][-1]["components"]
    assert status_of(world, game_id) == GameStatus.SCHEDULED.value


async def test_a_game_of_another_server_is_not_found(world: World, server: Server) -> None:
    elsewhere = make_game(world, server, "Elsewhere", server.host_id, guild_id=fresh_id())
    answer = await run(world, server, "cancel", server.owner_id, game=str(elsewhere))
    assert "I know no upcoming game" in seen(answer)
    assert "Elsewhere" not in seen(answer)
    assert status_of(world, elsewhere) == GameStatus.SCHEDULED.value
    edit = await run(world, server, "edit", server.owner_id, game=str(elsewhere))
    assert "I know no upcoming game" in seen(edit)
